-- COPY FROM STDIN and TO STDOUT in text and CSV, with psql's inline data
-- and \copy, and the errors of bad rows and bad options.
CREATE TABLE c (id int PRIMARY KEY, name text, score float8, note varchar(5));
COPY c FROM STDIN;
1	one	1.5	a
2	two	\N	b\tc
3	with\\backslash	-0.25	\N
\.
SELECT * FROM c ORDER BY id;
COPY c TO STDOUT;
COPY c (id, name) TO STDOUT WITH (FORMAT csv, HEADER);
COPY c TO STDOUT WITH CSV HEADER;
COPY c TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NULL', FORCE_QUOTE (name));
COPY c TO STDOUT (FORMAT csv, FORCE_QUOTE *);
COPY c TO STDOUT (DELIMITER '|', NULL '');
COPY (SELECT id, name FROM c WHERE id > 1 ORDER BY id DESC) TO STDOUT;
COPY (SELECT 'a,b' AS x, 'say "hi"' AS y, '' AS z, NULL AS w) TO STDOUT WITH CSV;
COPY c (id, name) FROM STDIN WITH (FORMAT csv, HEADER);
id,name
4,"comma, inside"
5,"quote "" inside"
6,
7,""
\.
SELECT id, name, name IS NULL AS isnull FROM c WHERE id >= 4 ORDER BY id;
COPY c (id, note) FROM STDIN CSV;
8,"multi
line"
\.
COPY c FROM STDIN;
9	nine	1	x
10	ten	bad	y
\.
SELECT id FROM c ORDER BY id;
COPY c FROM STDIN;
11	eleven	1	x	extra
\.
COPY c FROM STDIN;
12	twelve
\.
COPY c (id, note) FROM STDIN;
13	toolong
\.
COPY c (id) FROM STDIN;
1
\.
COPY c (id) FROM STDIN;
\N
\.
COPY nosuch FROM STDIN;
\.
COPY c (nosuch) FROM STDIN;
\.
COPY c (id, id) FROM STDIN;
\.
COPY c FROM STDIN (FORMAT csv, FORCE_QUOTE (id));
\.
COPY c TO STDOUT (FORMAT bogus);
COPY c TO STDOUT (FORMAT csv, FORMAT csv);
COPY c TO STDOUT (QUOTE '''');
COPY c TO STDOUT (DELIMITER 'ab');
COPY c TO STDOUT (FORMAT csv, DELIMITER ',', QUOTE ',');
COPY c TO STDOUT (BOGUS 1);
COPY c TO STDOUT (FORMAT csv, FORCE_QUOTE (nosuch));
COPY c TO STDOUT (FORMAT csv, FORCE_NOT_NULL (id));
COPY c TO STDOUT (HEADER);
COPY c (nosuch) TO STDOUT;
COPY nosuch TO STDOUT;
BEGIN;
COPY c (id, name) FROM STDIN;
20	twenty
\.
SELECT id, name FROM c WHERE id = 20;
ROLLBACK;
SELECT id, name FROM c WHERE id = 20;
BEGIN;
COPY c (id, name) FROM STDIN;
21	x	y
\.
SELECT 1;
ROLLBACK;
\copy c (id, name) from stdin
30	thirty
\.
\copy c (id, name) to stdout with csv
\copy (SELECT id FROM c WHERE id > 20) to stdout
COPY c (id) FROM STDIN;
\.
SELECT id FROM c ORDER BY id;
