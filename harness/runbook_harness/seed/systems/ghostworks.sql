-- ghostworks: an Alembic-managed schema.
CREATE EXTENSION pg_stat_statements;
SET ROLE ghostworks_app;
CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO alembic_version VALUES ('c3d4e5f6a7b8');
CREATE TABLE organizations (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE users (id serial PRIMARY KEY, org_id integer NOT NULL REFERENCES organizations (id),
                    email text NOT NULL UNIQUE, password_hash text NOT NULL);
CREATE TABLE items (id serial PRIMARY KEY, org_id integer NOT NULL REFERENCES organizations (id),
                    title text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX items_org_id_idx ON items (org_id);
INSERT INTO organizations (name) VALUES ('Demo');
RESET ROLE;
-- The seed's own statements are not the workload the checks judge: start the statistics clean.
SELECT pg_stat_statements_reset();
