-- Reference stack seed: the roles and databases of the five systems, then each system's schema
-- (ghostworks and practiceops migrate their own: runbook_harness.migrate).
-- Run by psql as the superuser (natively, and by the postgres image's init scripts in compose).
-- Role passwords are set afterwards from the stack's generated secrets (99-passwords.sql).

-- The role the checks connect as: reads everything, writes nothing.
CREATE ROLE runbook_checks LOGIN;
GRANT pg_monitor, pg_read_all_settings, pg_read_all_data TO runbook_checks;
-- pg_hba_file_rules is per database: granted in template1, every database below inherits it.
\connect template1
GRANT SELECT ON pg_hba_file_rules TO runbook_checks;
GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO runbook_checks;
-- whether pg_hba.conf changed since the server loaded it (the file's time; it is in the data directory)
GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO runbook_checks;
\connect postgres

CREATE ROLE author_app LOGIN;
CREATE ROLE author_migrator LOGIN;
CREATE ROLE audiospective_app LOGIN;
CREATE ROLE platform_app LOGIN;
CREATE ROLE ghostworks_app LOGIN;
CREATE ROLE practiceops_app LOGIN;

CREATE DATABASE author;
CREATE DATABASE audiospective OWNER audiospective_app;
CREATE DATABASE platform;
CREATE DATABASE ghostworks OWNER ghostworks_app;
CREATE DATABASE practiceops OWNER practiceops_app;

\connect author
\ir systems/author.sql
\connect audiospective
\ir systems/audiospective.sql
\connect platform
\ir systems/platform.sql
\connect ghostworks
\ir systems/ghostworks.sql

-- Fresh statistics everywhere, as a maintained database has them.
\connect author
VACUUM ANALYZE;
\connect audiospective
VACUUM ANALYZE;
\connect platform
VACUUM ANALYZE;
\connect ghostworks
VACUUM ANALYZE;
\connect practiceops
VACUUM ANALYZE;
