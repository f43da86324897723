-- ghostworks: the schema is the app's own, made by `alembic upgrade head` (runbook_harness.migrate);
-- the superuser only adds the statistics extension its checks read.
CREATE EXTENSION pg_stat_statements;
