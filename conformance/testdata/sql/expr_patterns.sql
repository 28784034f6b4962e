-- LIKE, ILIKE, SIMILAR TO and POSIX regular expressions.
SELECT 'hello' LIKE 'h%', 'hello' LIKE 'h_llo', 'hello' LIKE 'H%', 'hello' NOT LIKE 'x%', 'hello' ILIKE 'H%', 'hello' NOT ILIKE 'H%';
SELECT 'a%b' LIKE 'a\%b', 'axb' LIKE 'a\%b', 'a%b' LIKE 'a#%b' ESCAPE '#', 'a_b' LIKE 'a!_b' ESCAPE '!', 'a\b' LIKE 'a\b' ESCAPE '';
SELECT 'abc' LIKE 'abc\';
SELECT 'abc' LIKE 'a' ESCAPE 'xy';
SELECT 'line1
line2' LIKE 'line1%', NULL LIKE 'a', 'a' LIKE NULL;
SELECT 'abc' ~~ 'a%', 'abc' !~~ 'a%', 'ABC' ~~* 'a%', 'ABC' !~~* 'a%';
SELECT 'abc' SIMILAR TO 'abc', 'abc' SIMILAR TO 'a', 'abc' SIMILAR TO '%(b|d)%', 'abc' SIMILAR TO '(a|b)%', 'abc' NOT SIMILAR TO 'a_c', 'a.c' SIMILAR TO 'a.c', 'abc' SIMILAR TO 'a.c';
SELECT 'foobar' ~ 'o+b', 'foobar' ~ '^o', 'FOO' ~* 'foo', 'FOO' !~ 'foo', 'FOO' !~* 'foo', 'a
b' ~ 'a.b';
SELECT 'abc' ~ '(';
SELECT 'pg_class' OPERATOR(pg_catalog.~) '^(pg_.*)$', 'x' OPERATOR(pg_catalog.~~) 'x';
SELECT regexp_replace('foobarbaz', 'b..', 'X'), regexp_replace('foobarbaz', 'b..', 'X', 'g'), regexp_replace('Hello', 'l', 'L', 'gi'), regexp_replace('abc', '(b)', '[\1\&]');
SELECT regexp_replace('ABC', 'b', 'x', 'i'), regexp_replace('abc', 'x', 'y');
SELECT regexp_replace('abc', 'b', 'x', 'z');
CREATE TABLE names (id int PRIMARY KEY, name text);
INSERT INTO names VALUES (1, 'alice'), (2, 'Bob'), (3, 'carol'), (4, NULL), (5, 'al_x');
SELECT id FROM names WHERE name LIKE 'a%' ORDER BY id;
SELECT id FROM names WHERE name ILIKE 'B%' OR name ~ 'ol$' ORDER BY id;
SELECT id FROM names WHERE name LIKE 'al\_%' ORDER BY id;
SELECT id FROM names WHERE name NOT LIKE '%o%' ORDER BY id;
SELECT 1 LIKE 'a';
SELECT regexp_match('foobarbequebaz', '(bar)(beque)'), regexp_match('foobar', 'o+'), regexp_match('abc', 'x'), regexp_match('ABC', 'b', 'i');
SELECT regexp_match('abc', 'b', 'g');
