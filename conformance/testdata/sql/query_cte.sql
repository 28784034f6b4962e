-- WITH and WITH RECURSIVE.
CREATE TABLE e (id int PRIMARY KEY, boss int, name text);
INSERT INTO e VALUES (1, NULL, 'ceo'), (2, 1, 'cto'), (3, 1, 'cfo'), (4, 2, 'dev'), (5, 4, 'intern');
WITH x AS (SELECT id, name FROM e WHERE id < 4) SELECT * FROM x ORDER BY id;
WITH x(a, b) AS (SELECT id, name FROM e) SELECT a, b FROM x WHERE a > 3 ORDER BY a;
WITH x AS (SELECT id FROM e), y AS (SELECT id * 10 AS t FROM x) SELECT * FROM x JOIN y ON y.t = x.id * 10 ORDER BY 1;
WITH x AS (SELECT id FROM e) SELECT (SELECT count_id FROM (SELECT 1 AS count_id) s) FROM x WHERE false;
WITH x AS (SELECT id FROM e) SELECT a.id, b.id FROM x a, x b WHERE a.id = b.id + 1 ORDER BY 1;
WITH x AS (SELECT 1 AS n) SELECT * FROM (WITH x AS (SELECT 2 AS n) SELECT n FROM x) s, x;
WITH x(a, b, c) AS (SELECT 1, 2) SELECT * FROM x;
WITH x AS (SELECT 1), x AS (SELECT 2) SELECT * FROM x;
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t;
WITH RECURSIVE t(n) AS (SELECT 1 UNION SELECT (n % 3) + 1 FROM t) SELECT * FROM t ORDER BY n;
WITH RECURSIVE chain AS (SELECT id, boss, name, 1 AS depth FROM e WHERE boss IS NULL UNION ALL SELECT e.id, e.boss, e.name, chain.depth + 1 FROM e JOIN chain ON e.boss = chain.id) SELECT * FROM chain ORDER BY depth, id;
WITH RECURSIVE up(id, path) AS (SELECT id, name FROM e WHERE id = 5 UNION ALL SELECT e.boss, up.path || '<' || b.name FROM up JOIN e ON e.id = up.id JOIN e b ON b.id = e.boss) SELECT * FROM up ORDER BY id DESC;
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT * FROM t LIMIT 4;
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n::bigint + 1 FROM t WHERE n < 3) SELECT * FROM t;
WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT 2) SELECT * FROM t ORDER BY n;
WITH RECURSIVE fib(a, b) AS (SELECT 0::bigint, 1::bigint UNION ALL SELECT b, a + b FROM fib WHERE b < 100) SELECT a FROM fib;
