-- psql's listing commands over the schemas, roles, databases and functions.
\dn
\dn+
\du
\du+
\l template*
\df
\df+ nosuch
CREATE SCHEMA app;
\dn
DROP SCHEMA app;
\dn
