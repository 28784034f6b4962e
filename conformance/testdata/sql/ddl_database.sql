-- CREATE / DROP DATABASE on the names that exist, COMMENT ON.
CREATE DATABASE postgres;
CREATE DATABASE template1;
DROP DATABASE template0;
DROP DATABASE nosuchdb;
DROP DATABASE IF EXISTS nosuchdb;
CREATE TABLE t (id int);
COMMENT ON TABLE t IS 'a table';
COMMENT ON TABLE t IS NULL;
COMMENT ON TABLE nope IS 'x';
COMMENT ON SCHEMA public IS 'standard public schema';
COMMENT ON SCHEMA nope IS 'x';
CREATE SEQUENCE s;
COMMENT ON SEQUENCE s IS 'a sequence';
COMMENT ON SEQUENCE t IS 'not a sequence';
CREATE INDEX t_id ON t (id);
COMMENT ON INDEX t_id IS 'an index';
CREATE VIEW v AS SELECT 1 AS one;
COMMENT ON VIEW v IS 'a view';
