-- VACUUM and ANALYZE: options, relations and column lists checked as
-- Postgres checks them, the command tags, and the WARNING for what is
-- not a table; pgbench's start-up probes; ALTER TABLE ADD PRIMARY KEY
-- over existing rows.
CREATE TABLE vt (id int PRIMARY KEY, v int);
CREATE VIEW vv AS SELECT * FROM vt;
CREATE SEQUENCE vs;
VACUUM;
VACUUM vt;
VACUUM ANALYZE vt;
vacuum analyze vt;
VACUUM (ANALYZE, VERBOSE false) vt (v);
VACUUM FULL vt;
VACUUM FREEZE vt;
VACUUM (FREEZE false, ANALYZE off, INDEX_CLEANUP on, PARALLEL 2) vt;
ANALYZE vt;
ANALYZE;
ANALYZE vt (id, v);
ANALYZE vt (nope);
VACUUM nope;
ANALYZE nope;
VACUUM nope.vt;
VACUUM vv;
ANALYZE vv;
VACUUM vs;
VACUUM information_schema.tables;
VACUUM vt, nope;
VACUUM (BOGUS) vt;
ANALYZE (FULL) vt;
VACUUM vt (v);
VACUUM (FULL, PARALLEL 2) vt;
VACUUM (ANALYZE 'x') vt;
VACUUM ANALYZE vt (v, v);
VACUUM pg_class;
BEGIN;
ANALYZE vt;
VACUUM vt;
ROLLBACK;
-- pgbench's probes: is pgbench_accounts partitioned, how many branches.
CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100);
select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname = 'pgbench_accounts' and o.n is not null group by 1, 2 order by 1 asc limit 1;
-- ALTER TABLE ADD PRIMARY KEY builds the index over the rows there,
-- refusing duplicates and NULLs.
INSERT INTO pgbench_accounts SELECT aid, (aid - 1) / 10 + 1, 0 FROM generate_series(1, 50) AS aid;
INSERT INTO pgbench_accounts VALUES (7, 1, 0);
ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid);
DELETE FROM pgbench_accounts WHERE aid = 7 AND filler IS NULL AND bid = 1;
ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid);
ALTER TABLE pgbench_accounts ADD PRIMARY KEY (bid);
\d pgbench_accounts
SELECT count(*), sum(bid) FROM pgbench_accounts;
SELECT * FROM pgbench_accounts WHERE aid = 42;
CREATE TABLE nulls (a int, b int);
INSERT INTO nulls VALUES (1, 1), (NULL, 2);
ALTER TABLE nulls ADD PRIMARY KEY (a);
