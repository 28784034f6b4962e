-- CREATE / ALTER / DROP ROLE and \du. Roles are cluster-wide in
-- PostgreSQL, so the script runs in one transaction that it rolls back
-- (other scripts' \du must not see its roles); psql's ON_ERROR_ROLLBACK
-- keeps the transaction going past each expected error.
\set ON_ERROR_ROLLBACK on
BEGIN;
CREATE ROLE regress_plain;
CREATE USER regress_user;
CREATE ROLE regress_admin WITH SUPERUSER CREATEDB CREATEROLE LOGIN;
CREATE ROLE regress_pw LOGIN PASSWORD 'secret';
CREATE ROLE regress_flags NOINHERIT REPLICATION BYPASSRLS;
CREATE ROLE regress_plain;
CREATE USER regress_user;
CREATE ROLE pg_mine;
CREATE ROLE regress_bad LOGIN NOLOGIN;
\du regress_*
SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolpassword
  FROM pg_roles WHERE rolname LIKE 'regress_%' ORDER BY rolname;
SELECT rolname, left(rolpassword, 14) AS method, rolpassword LIKE '%secret%' AS plain
  FROM pg_authid WHERE rolname LIKE 'regress_%' ORDER BY rolname;
SELECT usename, usesuper, usecreatedb FROM pg_user WHERE usename LIKE 'regress_%' ORDER BY usename;
ALTER ROLE regress_plain LOGIN SUPERUSER;
ALTER USER regress_user NOLOGIN;
ALTER ROLE regress_admin NOSUPERUSER NOCREATEDB;
ALTER ROLE regress_plain PASSWORD 'another';
ALTER ROLE regress_pw PASSWORD NULL;
ALTER ROLE regress_nosuch LOGIN;
\du regress_*
SELECT rolname, rolpassword IS NOT NULL AS has_password FROM pg_authid WHERE rolname LIKE 'regress_%' ORDER BY rolname;
ALTER ROLE regress_plain RENAME TO regress_renamed;
ALTER ROLE regress_user RENAME TO regress_admin;
ALTER ROLE regress_nosuch RENAME TO regress_other;
ALTER ROLE regress_user RENAME TO pg_user2;
ALTER ROLE postgres RENAME TO regress_boss;
\du regress_*
CREATE SCHEMA regress_owned AUTHORIZATION regress_user;
DROP ROLE regress_user;
DROP SCHEMA regress_owned;
DROP ROLE regress_user;
DROP ROLE regress_user;
DROP ROLE IF EXISTS regress_user;
DROP ROLE IF EXISTS regress_gone, regress_renamed;
DROP USER regress_pw, regress_flags;
DROP ROLE postgres;
\du regress_*
ROLLBACK;
