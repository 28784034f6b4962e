-- psql's \d family: psql runs its own catalog queries against both servers.
\d
\dt
CREATE TABLE t (id int PRIMARY KEY, name varchar(20) NOT NULL, price numeric(10,2) DEFAULT 0);
CREATE TABLE s (id serial PRIMARY KEY, code char(3) UNIQUE, at timestamptz, n bigint NOT NULL DEFAULT 7);
CREATE INDEX s_at ON s (at DESC);
CREATE UNIQUE INDEX s_n_at ON s (n, at);
CREATE TABLE k (id int PRIMARY KEY);
CREATE VIEW v AS SELECT id, name FROM t;
CREATE SEQUENCE q START 5 INCREMENT 2;
CREATE SCHEMA other;
CREATE TABLE other.o (a int);
\dt
\d
\d t
\d s
\d k
\d+ t
\dt+ k
\di
\ds
\dv
\d q
\d s_id_seq
\d v
\d s_pkey
\d other.o
\dt other.*
\d nosuch
\dt nosuch*
\x on
SELECT relname, relkind FROM pg_class WHERE relname = 't';
\x off
DROP VIEW v;
DROP TABLE other.o;
DROP SCHEMA other;
DROP TABLE t, s, k;
DROP SEQUENCE q;
\d
