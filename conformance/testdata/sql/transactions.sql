-- Transaction blocks: modes, read-only transactions, savepoints, and the
-- warnings for misplaced transaction commands.
-- Every isolation level runs serializable here, and SHOW says so
-- (TestSQLSerializableTransfers checks it); Postgres shows the level asked.
-- mask: (read committed|serializable)
CREATE TABLE t (id int PRIMARY KEY, v text);
BEGIN ISOLATION LEVEL READ COMMITTED;
SHOW transaction_isolation;
SHOW transaction_read_only;
INSERT INTO t VALUES (1, 'a');
COMMIT;
SHOW transaction_isolation;
SHOW default_transaction_isolation;
SET TRANSACTION READ ONLY;
START TRANSACTION READ ONLY;
SHOW transaction_read_only;
SELECT * FROM t;
INSERT INTO t VALUES (2, 'b');
SELECT * FROM t;
ROLLBACK;
BEGIN;
SET TRANSACTION READ ONLY;
CREATE TABLE u (a int);
ROLLBACK;
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
SHOW default_transaction_read_only;
INSERT INTO t VALUES (3, 'c');
BEGIN READ WRITE;
INSERT INTO t VALUES (3, 'c');
COMMIT;
SET default_transaction_read_only = off;
INSERT INTO t VALUES (4, 'd');
COMMIT;
ROLLBACK;
BEGIN;
BEGIN;
INSERT INTO t VALUES (5, 'e');
SAVEPOINT s1;
INSERT INTO t VALUES (6, 'f');
ROLLBACK TO SAVEPOINT s1;
INSERT INTO t VALUES (7, 'g');
RELEASE SAVEPOINT s1;
ROLLBACK TO SAVEPOINT s1;
SELECT * FROM t;
ROLLBACK;
SELECT * FROM t ORDER BY id;
SAVEPOINT x;
