-- DELETE: WHERE, USING, RETURNING, index upkeep, and errors.
CREATE TABLE t (id int PRIMARY KEY, v text UNIQUE, n int);
INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30), (4, 'd', 40);
DELETE FROM t WHERE id = 1;
DELETE FROM t WHERE n > 100;
SELECT * FROM t ORDER BY id;
INSERT INTO t VALUES (1, 'a', 11);
CREATE TABLE gone (id int);
INSERT INTO gone VALUES (2), (3);
DELETE FROM t USING gone WHERE gone.id = t.id;
SELECT * FROM t ORDER BY id;
DELETE FROM t AS x WHERE x.n = 40 RETURNING x.id, v;
DELETE FROM t WHERE nope = 1;
DELETE FROM missing;
DELETE FROM t;
SELECT * FROM t;
INSERT INTO t VALUES (5, 'a', 1), (6, 'b', 2);
SELECT * FROM t ORDER BY id;
