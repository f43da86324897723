-- Reference stack seed: the roles and databases of the five systems, then each system's schema.
-- Run by psql as the superuser (natively, and by the postgres image's init scripts in compose).
-- Role passwords are set afterwards from the stack's generated secrets (99-passwords.sql).

CREATE ROLE runbook_checks LOGIN;              -- the read-only role the checks connect as
GRANT pg_monitor TO runbook_checks;
GRANT pg_read_all_settings TO runbook_checks;

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
\connect practiceops
\ir systems/practiceops.sql
