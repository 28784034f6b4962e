-- RETURNING on INSERT, UPDATE and DELETE: expressions, *, aliases.
CREATE TABLE t (id serial PRIMARY KEY, v text, n int DEFAULT 5);
INSERT INTO t (v) VALUES ('a'), ('b') RETURNING *;
INSERT INTO t (v, n) VALUES ('c', 1) RETURNING id, n + 1 AS next, v || '!';
INSERT INTO t AS z (v) VALUES ('d') RETURNING z.id, z.v;
UPDATE t SET n = n * 10 WHERE id < 3 RETURNING *;
UPDATE t SET v = v || v WHERE id = 3 RETURNING id, v AS doubled;
UPDATE t SET n = 0 WHERE id > 100 RETURNING *;
DELETE FROM t WHERE id = 4 RETURNING *;
DELETE FROM t WHERE id < 3 RETURNING n, id;
INSERT INTO t (v) VALUES ('e') RETURNING nope;
SELECT * FROM t ORDER BY id;
