-- CHECK and UNIQUE constraints: column and table forms, generated names, NULLs, and their errors.
CREATE TABLE t (
  id int PRIMARY KEY,
  a int CHECK (a > 0),
  b int CONSTRAINT b_small CHECK (b < 100),
  c text UNIQUE,
  d int,
  e int,
  CHECK (d < e),
  CHECK (d > 0),
  UNIQUE (d, e)
);
INSERT INTO t VALUES (1, 1, 1, 'x', 1, 2);
INSERT INTO t VALUES (2, 0, 1, 'y', 1, 3);
INSERT INTO t VALUES (2, 1, 100, 'y', 1, 3);
INSERT INTO t VALUES (2, 1, 1, 'y', 5, 3);
INSERT INTO t VALUES (2, 1, 1, 'y', 0, 3);
INSERT INTO t VALUES (2, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t VALUES (3, NULL, NULL, NULL, NULL, NULL);
INSERT INTO t VALUES (4, 1, 1, 'x', 2, 3);
INSERT INTO t VALUES (4, 1, 1, 'z', 1, 2);
INSERT INTO t VALUES (4, 1, 1, 'z', 1, NULL);
INSERT INTO t VALUES (5, 1, 1, 'w', 1, NULL);
UPDATE t SET a = -1 WHERE id = 1;
UPDATE t SET c = 'x' WHERE id = 2;
UPDATE t SET d = 9, e = 10 WHERE id = 1;
SELECT * FROM t ORDER BY id;
CREATE TABLE bad (a int CHECK (nope > 0));
CREATE TABLE bad (a int CHECK (a + 1));
CREATE TABLE two (a int CHECK (a > 0), CHECK (a < 10), b int CHECK (a < b));
INSERT INTO two VALUES (20, 30);
INSERT INTO two VALUES (5, 1);
