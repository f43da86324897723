"""PostgreSQL: one read-only session per database per run, and the catalog snapshot read in one query."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row

from runbook_checks.errors import CheckFailed, PermissionMissing, TargetUnreachable
from runbook_checks.facts.catalog import Catalog, DefinerRead, HbaRule, RolePrivileges, Statement, ViewRead
from runbook_checks.facts.names import qualify
from runbook_checks.facts.scope import FULL, CatalogScope
from runbook_checks.targets.base import Lazy, address_of
from runbook_checks.targets.unanswered import Unanswered, no_answer

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts

# what decides where and how a connection goes: databases on one server share its silence
_SERVER_PARAMS = ("host", "hostaddr", "port", "sslmode", "sslrootcert")

# Each section of the catalog query; /*only X*/ marks where a scoped read limits it to its tables.
_SECTION_SQL = {
    "roles": """(SELECT coalesce(json_agg(json_build_object(
      'name', r.rolname, 'login', r.rolcanlogin, 'superuser', r.rolsuper, 'inherit', r.rolinherit,
      'connection_limit', r.rolconnlimit, 'bypass_rls', r.rolbypassrls,
      'valid_seconds', CASE WHEN r.rolvaliduntil = 'infinity' THEN NULL
                            ELSE extract(epoch FROM r.rolvaliduntil - now()) END,
      'member_of', (SELECT coalesce(json_agg(g.rolname), '[]') FROM pg_auth_members m
                    JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),
      -- the grants it inherits through: from PostgreSQL 16 each grant's own INHERIT option
      -- (pg_auth_members.inherit_option, absent before: then the role's INHERIT decides)
      'inherits_from', (SELECT coalesce(json_agg(g.rolname), '[]') FROM pg_auth_members m
                        JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid
                        AND coalesce((to_jsonb(m) ->> 'inherit_option')::bool, r.rolinherit)))), '[]')
      FROM pg_roles r)""",
    "tables": """(SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', c.relname, 'kind', c.relkind,
      'owner', pg_get_userbyid(c.relowner),
      'rls', c.relrowsecurity, 'rls_forced', c.relforcerowsecurity,
      'extension', EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                           AND e.objid = c.oid AND e.deptype = 'e'),
      'acl', (SELECT coalesce(json_agg(json_build_object(
                  'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                  'privilege', a.privilege_type)), '[]') FROM aclexplode(c.relacl) a))), '[]')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%%' /*only c.oid*/)""",
    "policies": """(SELECT coalesce(json_agg(json_build_object(
      'schema', p.schemaname, 'table', p.tablename, 'name', p.policyname, 'command', p.cmd,
      'roles', p.roles, 'using', p.qual, 'with_check', p.with_check,
      'permissive', p.permissive = 'PERMISSIVE')), '[]')
      FROM pg_policies p WHERE true /*only (p.schemaname, p.tablename)*/)""",
    "indexes": """(SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'table', t.relname, 'name', i.relname,
      'unique', x.indisunique, 'valid', x.indisvalid, 'key_count', x.indnkeyatts,
      'partial', x.indpred IS NOT NULL, 'method', (SELECT amname FROM pg_am WHERE oid = i.relam),
      'columns', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
                  FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum))), '[]')
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%%' /*only t.oid*/)""",
    "functions": """(SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', p.proname, 'owner', pg_get_userbyid(p.proowner),
      'security_definer', p.prosecdef, 'config', p.proconfig,
      'arguments', pg_get_function_identity_arguments(p.oid),
      'acl', (SELECT coalesce(json_agg(json_build_object(
                  'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                  'privilege', a.privilege_type)), '[]')
                  FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a))), '[]')
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))""",
    "schemas": """(SELECT coalesce(json_agg(json_build_object(
      'name', n.nspname, 'owner', pg_get_userbyid(n.nspowner),
      'acl', (SELECT coalesce(json_agg(json_build_object(
                  'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                  'privilege', a.privilege_type)), '[]') FROM aclexplode(n.nspacl) a))), '[]')
      FROM pg_namespace n
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%%')""",
    "foreign_keys": """(SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'table', c.relname, 'name', k.conname,
      'columns', (SELECT json_agg(a.attname ORDER BY u.ord)
                  FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum))), '[]')
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema') /*only k.conrelid*/)""",
    "extensions": """(SELECT coalesce(json_object_agg(extname, extversion), '{}') FROM pg_extension)""",
    "settings": """(SELECT json_object_agg(name, setting) FROM pg_settings)""",
    "database": """current_database()""",
    "database_connection_limit":
        """(SELECT datconnlimit FROM pg_database WHERE datname = current_database())""",
    "default_acls": """(SELECT coalesce(json_agg(json_build_object(
      'owner', pg_get_userbyid(d.defaclrole), 'schema', n.nspname, 'kind', d.defaclobjtype,
      'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
      'privilege', a.privilege_type)), '[]')
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace,
           aclexplode(d.defaclacl) a)""",
    "role_settings": """(SELECT coalesce(json_agg(json_build_object(
      'database', d.datname, 'role', r.rolname, 'config', s.setconfig)), '[]')
      FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase
      LEFT JOIN pg_roles r ON r.oid = s.setrole)""",
    "visibility": """json_build_object(
      'role', current_user,
      'read_all_stats', pg_has_role('pg_read_all_stats', 'USAGE'),
      'read_all_settings', pg_has_role('pg_read_all_settings', 'USAGE'))""",
    "activity": """(SELECT coalesce(json_agg(json_build_object(
      'pid', a.pid, 'database', a.datname, 'user', a.usename, 'application', a.application_name,
      'client', host(a.client_addr), 'state', a.state, 'backend', a.backend_type,
      'state_seconds', extract(epoch FROM now() - a.state_change),
      'query_seconds', extract(epoch FROM now() - a.query_start),
      'query', left(a.query, 120))), '[]')
      FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid())""",
    "table_stats": """(SELECT coalesce(json_agg(json_build_object(
      'schema', s.schemaname, 'name', s.relname, 'live_rows', s.n_live_tup,
      'analyzed_seconds', extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze)),
      'vacuumed_seconds', extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum)),
      'rows', greatest(c.reltuples, s.n_live_tup), 'changed_since_analyze', s.n_mod_since_analyze,
      'dead_rows', s.n_dead_tup, 'inserted_since_vacuum', s.n_ins_since_vacuum, 'autovacuum', o.enabled,
      'analyze_at_rows', o.analyze_base + o.analyze_scale * o.tuples,
      'vacuum_at_rows', o.vacuum_base + o.vacuum_scale * o.tuples,
      'insert_vacuum_at_rows', CASE WHEN o.insert_base >= 0
                                    THEN o.insert_base + o.insert_scale * o.tuples END)),
      '[]')
      FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid,
      LATERAL (SELECT greatest(c.reltuples, 0) AS tuples,
        current_setting('autovacuum') = 'on'
          AND coalesce(opt.v ->> 'autovacuum_enabled', 'true')::bool AS enabled,
        coalesce(opt.v ->> 'autovacuum_vacuum_threshold',
                 current_setting('autovacuum_vacuum_threshold'))::float AS vacuum_base,
        coalesce(opt.v ->> 'autovacuum_vacuum_scale_factor',
                 current_setting('autovacuum_vacuum_scale_factor'))::float AS vacuum_scale,
        coalesce(opt.v ->> 'autovacuum_analyze_threshold',
                 current_setting('autovacuum_analyze_threshold'))::float AS analyze_base,
        coalesce(opt.v ->> 'autovacuum_analyze_scale_factor',
                 current_setting('autovacuum_analyze_scale_factor'))::float AS analyze_scale,
        coalesce(opt.v ->> 'autovacuum_vacuum_insert_threshold',
                 current_setting('autovacuum_vacuum_insert_threshold'))::float AS insert_base,
        coalesce(opt.v ->> 'autovacuum_vacuum_insert_scale_factor',
                 current_setting('autovacuum_vacuum_insert_scale_factor'))::float AS insert_scale
        FROM (SELECT coalesce(json_object_agg(split_part(r, '=', 1), split_part(r, '=', 2)), '{}') AS v
              FROM unnest(c.reloptions) r) opt) o
      WHERE true /*only s.relid*/)""",
}

# The tables a scoped read is limited to: those named, and those having one of the columns named.
_WANTED_SQL = """WITH wanted AS MATERIALIZED (
  SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    AND ((n.nspname, c.relname) IN (SELECT * FROM unnest(%(schemas)s::text[], %(names)s::text[])){columns}))
"""
_WITH_COLUMN_SQL = """
      OR (n.nspname NOT IN ('pg_catalog', 'information_schema') AND EXISTS (
          SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = ANY(%(columns)s::text[])
            AND a.attnum > 0 AND NOT a.attisdropped))"""
# Always read: small, and what tells a check about its own visibility.
_ALWAYS = ("database", "database_connection_limit", "visibility")


def catalog_sql(scope: CatalogScope) -> tuple[str, dict[str, list[str]]]:
    """The catalog query for `scope` and its parameters: the sections it names, the per-table ones
    limited to its tables (and the tables having its columns), which it also lists as scope_tables."""
    sections = [name for name in _SECTION_SQL if name in _ALWAYS or name in scope.sections]
    limited = scope.tables is not None
    body = ",\n".join(f"  '{name}', {_only(_SECTION_SQL[name], limited)}" for name in sections)
    tables = sorted(scope.tables or ())
    params = {"schemas": [t.split(".", 1)[0] for t in tables], "names": [t.split(".", 1)[1] for t in tables],
              "columns": sorted(scope.columns)}
    if not limited:
        return f"SELECT json_build_object(\n{body})", params
    wanted = _WANTED_SQL.format(columns=_WITH_COLUMN_SQL if scope.columns else "")
    listed = "  'scope_tables', (SELECT coalesce(json_agg(nspname || '.' || relname), '[]') FROM wanted)"
    return f"{wanted}SELECT json_build_object(\n{body},\n{listed})", params


def _only(fragment: str, limited: bool) -> str:
    """A section's SQL with its /*only X*/ marker made a filter to the wanted tables, or dropped."""
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return f"AND {key} IN (SELECT {'nspname, relname' if key.startswith('(') else 'oid'} FROM wanted)"
    return re.sub(r"/\*only (.+?)\*/", replace if limited else "", fragment)


# What one role may do on every object, as the server answers it (has_*_privilege): memberships,
# ownership, PUBLIC, predefined roles (pg_read_all_data, pg_database_owner) and superuser included.
_PRIVILEGES_SQL = """
WITH asked AS (SELECT %s::text AS role)
SELECT json_build_object(
  'tables', (SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname, ARRAY(
      SELECT p FROM unnest(CASE WHEN c.relkind = 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                                ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                                           'TRIGGER'] END) p
      WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(asked.role, c.oid, p)
                 ELSE has_table_privilege(asked.role, c.oid, p) END)), '{}')
      FROM asked, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
        AND n.nspname NOT LIKE 'pg_temp%%'),
  'schemas', (SELECT coalesce(json_object_agg(n.nspname, ARRAY(
      SELECT p FROM unnest(ARRAY['USAGE', 'CREATE']) p
      WHERE has_schema_privilege(asked.role, n.oid, p))), '{}')
      FROM asked, pg_namespace n
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_%%'),
  'functions', (SELECT coalesce(json_object_agg(f.name, f.execute), '{}') FROM (
      SELECT n.nspname || '.' || p.proname AS name,
             bool_or(has_function_privilege(asked.role, p.oid, 'EXECUTE')) AS execute
      FROM asked, pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') GROUP BY 1) f),
  'columns', (SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname || '.' || a.attname, ARRAY(
      SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p
      WHERE has_column_privilege(asked.role, c.oid, a.attnum, p))), '{}')
      FROM asked, pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND a.attnum > 0),
  'database', ARRAY(SELECT p FROM asked, unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) p
                    WHERE has_database_privilege(asked.role, current_database(), p)),
  'sequences', ARRAY(SELECT n.nspname || '.' || c.relname FROM pg_class c
                     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S'
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                     AND n.nspname NOT LIKE 'pg_toast%%')
)
"""

_TABLES_WITH_COLUMN_SQL = """
SELECT coalesce(json_agg(n.nspname || '.' || c.relname ORDER BY n.nspname, c.relname), '[]')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
"""

# Views and materialized views reading the given tables, directly or through other views: each
# edge of that closure, with the reading relation's kind, security_invoker (cast by the server, as
# it reads the option), whether the role may SELECT from it, and the given tables on which its
# owner gets past row-level security (superuser, BYPASSRLS, or the table's owner where the table is
# not FORCEd): a view that is not security_invoker reads as its owner.
_VIEWS_OVER_SQL = """
WITH RECURSIVE edges AS (
  SELECT DISTINCT r.ev_class AS reader, d.refobjid AS source
  FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
   AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class),
reached(oid) AS (
  SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname || '.' || c.relname = ANY(%(tables)s::text[])
  UNION SELECT e.reader FROM edges e JOIN reached ON e.source = reached.oid)
SELECT coalesce(json_agg(json_build_object(
  'view', vn.nspname || '.' || v.relname, 'kind', v.relkind,
  'invoker', coalesce((SELECT option_value::bool FROM pg_options_to_table(v.reloptions)
                       WHERE option_name = 'security_invoker'), false),
  'readable', has_any_column_privilege(%(role)s, v.oid, 'SELECT'),  -- a column grant reads it too
  'source', sn.nspname || '.' || s.relname,
  'bypasses', (SELECT coalesce(json_agg(tn.nspname || '.' || t.relname), '[]')
               FROM pg_class t JOIN pg_namespace tn ON tn.oid = t.relnamespace, pg_roles o
               WHERE o.oid = v.relowner AND tn.nspname || '.' || t.relname = ANY(%(tables)s::text[])
                 AND (o.rolsuper OR o.rolbypassrls
                      OR (pg_has_role(o.oid, t.relowner, 'USAGE') AND NOT t.relforcerowsecurity))))
  ORDER BY vn.nspname, v.relname, sn.nspname, s.relname), '[]')
FROM edges e JOIN reached ON reached.oid = e.source
JOIN pg_class v ON v.oid = e.reader JOIN pg_namespace vn ON vn.oid = v.relnamespace
JOIN pg_class s ON s.oid = e.source JOIN pg_namespace sn ON sn.oid = s.relnamespace
WHERE v.relkind IN ('v', 'm')
"""

# SECURITY DEFINER functions reading the given tables, directly or through views and other
# functions (at most four steps): a SQL body's recorded dependencies, any other body's text naming
# the table, view or function (a name next to a letter, digit, _ or $ is part of another word), and
# PL/pgSQL's EXECUTE (dynamic SQL: any table). Each read is made as the innermost role on the way
# that reads as itself (a view that is not security_invoker, a SECURITY DEFINER function), and is
# judged as the server rules: a superuser or BYPASSRLS role gets past row-level security, the
# table's owner (or a role with its rights) unless the table is FORCEd; a materialized view holds
# every row. A function is executable where the role may run it or an aggregate it serves. Trigger
# functions (never called by name) and extensions' own are left out.
_DEFINER_READS_SQL = r"""
WITH RECURSIVE
procs AS (
  SELECT p.oid, fn.nspname || '.' || p.proname AS name, p.proname, p.prosrc,
         p.prosqlbody IS NOT NULL AS atomic, p.prosecdef, p.proowner,
         l.lanname = 'plpgsql' AND p.prosrc ~* '\mEXECUTE\M' AS dynamic
  FROM pg_proc p JOIN pg_namespace fn ON fn.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
  WHERE fn.nspname NOT IN ('pg_catalog', 'information_schema')
    AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                    AND e.deptype = 'e')),
tenant AS (
  SELECT c.oid, tn.nspname || '.' || c.relname AS name
  FROM pg_class c JOIN pg_namespace tn ON tn.oid = c.relnamespace
  WHERE tn.nspname || '.' || c.relname = ANY(%(tables)s::text[])),
reaches(cls, oid, word, label, tbl, reader, path, named) AS (
  SELECT 'pg_class'::regclass, t.oid, c.relname::text COLLATE "C", NULL::text COLLATE "C", t.oid, NULL::oid,
         ARRAY[]::text[] COLLATE "C", false
  FROM tenant t JOIN pg_class c ON c.oid = t.oid
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, p.proname::text COLLATE "C", p.name || '()', t.oid,
         CASE WHEN p.prosecdef THEN p.proowner END, ARRAY['dynamic SQL' COLLATE "C"], false
  FROM procs p CROSS JOIN tenant t WHERE p.dynamic
  UNION ALL
  SELECT e.cls, e.oid, e.word, e.label, r.tbl, coalesce(r.reader, e.switches),
         CASE WHEN r.label IS NULL THEN r.path ELSE r.path || r.label END, e.named
  FROM reaches r CROSS JOIN LATERAL (
    SELECT 'pg_class'::regclass AS cls, v.oid, v.relname::text AS word,
           vn.nspname || '.' || v.relname AS label,
           CASE WHEN v.relkind = 'm' THEN 0::oid
                WHEN NOT coalesce((SELECT option_value::bool FROM pg_options_to_table(v.reloptions)
                                   WHERE option_name = 'security_invoker'), false)
                THEN v.relowner END AS switches,
           false AS named
    FROM pg_depend d JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class
    JOIN pg_namespace vn ON vn.oid = v.relnamespace
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = r.cls AND d.refobjid = r.oid
      AND v.oid <> r.oid AND v.relkind IN ('v', 'm')
    UNION
    SELECT 'pg_proc'::regclass, p.oid, p.proname::text, p.name || '()',
           CASE WHEN p.prosecdef THEN p.proowner END, NOT x.recorded
    FROM procs p CROSS JOIN LATERAL (SELECT EXISTS (
      SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
       AND d.refclassid = r.cls AND d.refobjid = r.oid) AS recorded) x
    WHERE p.oid <> r.oid AND (x.recorded OR (NOT p.atomic AND p.prosrc ~* ('(^|[^[:alnum:]_$])'
      || regexp_replace(r.word, '([^[:alnum:]_])', '\\\1', 'g') || '($|[^[:alnum:]_$])')))
  ) e
  WHERE cardinality(r.path) < 4),
judged AS (
  SELECT DISTINCT ON (r.oid, r.tbl) r.oid, r.tbl, r.reader, r.path, r.named,
    CASE WHEN r.reader = 0 THEN 'a materialized view holds every tenant''s rows'
         WHEN o.rolsuper THEN 'a superuser' WHEN o.rolbypassrls THEN 'BYPASSRLS'
         WHEN pg_has_role(o.oid, c.relowner, 'USAGE') AND NOT c.relforcerowsecurity
         THEN 'the table''s owner, RLS not forced' END AS bypass
  FROM reaches r JOIN procs p ON p.oid = r.oid JOIN pg_class c ON c.oid = r.tbl
  LEFT JOIN pg_roles o ON o.oid = r.reader
  WHERE r.cls = 'pg_proc'::regclass AND p.prosecdef
  ORDER BY r.oid, r.tbl, 6 NULLS LAST, cardinality(r.path))
SELECT coalesce(json_agg(json_build_object(
  'function', p.name || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  'name', p.name, 'arguments', pg_get_function_identity_arguments(p.oid),
  'owner', pg_get_userbyid(p.proowner),
  'reader', CASE WHEN j.reader <> 0 THEN pg_get_userbyid(j.reader) END, 'bypass', j.bypass,
  'executable', has_function_privilege(%(role)s, p.oid, 'EXECUTE')
                OR EXISTS (SELECT 1 FROM pg_aggregate a
                           WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
                                           a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn, a.aggmfinalfn)
                             AND has_function_privilege(%(role)s, a.aggfnoid, 'EXECUTE')),
  'table', t.name, 'through', j.path, 'named', j.named) ORDER BY p.name, t.name), '[]')
FROM judged j JOIN procs p ON p.oid = j.oid JOIN tenant t ON t.oid = j.tbl
"""

_HBA_SQL = """
SELECT coalesce(json_agg(json_build_object(
  'line', line_number, 'type', type, 'databases', database, 'users', user_name,
  'address', address, 'netmask', netmask, 'method', auth_method, 'error', error)
  ORDER BY line_number), '[]')
FROM pg_hba_file_rules
"""

_STATEMENTS_SQL = """
SELECT coalesce(json_agg(json_build_object(
  'query', left(s.query, 120), 'calls', s.calls, 'mean_ms', s.mean_exec_time,
  'database', d.datname) ORDER BY s.mean_exec_time DESC), '[]')
FROM (SELECT * FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND userid <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
      ORDER BY mean_exec_time DESC LIMIT 50) s
LEFT JOIN pg_database d ON d.oid = s.dbid
"""


def session_options(timeouts: Timeouts) -> str:
    """Server options that make a session read-only and bounded. JIT is off: the catalog queries
    are small, but the planner's estimates for the recursive ones are not, and compiling them
    would take a second each."""
    statement_ms = int(timeouts.statement_seconds * 1000)
    lock_ms = min(statement_ms, 2000)
    return (
        f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}"
        f" -c lock_timeout={lock_ms} -c idle_in_transaction_session_timeout={statement_ms} -c jit=off"
    )


def connect(dsn: str, timeouts: Timeouts, target: str,
            unanswered: Unanswered | None = None) -> psycopg.Connection[Any]:
    """A read-only, autocommit session with connect, statement and lock timeouts. With `unanswered`,
    a server that gave no answer before fails at once, and one that gives none now is remembered."""
    memory, key = unanswered or Unanswered(), server_key(dsn)
    memory.check(key, target)
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=connect_timeout(timeouts),
            options=session_options(timeouts),
            application_name="runbook-checks",
            row_factory=tuple_row,
        )
    except (psycopg.Error, ValueError) as error:
        cause, silent = connect_failure(error, timeouts)
        failure = TargetUnreachable(target, address_of(dsn), cause,
                                    "start the database or correct its DSN in the environment file")
        raise (memory.remember(key, failure) if silent else failure) from None


def connect_timeout(timeouts: Timeouts) -> int:
    """libpq's connect_timeout: whole seconds, 2 at least (it takes no less)."""
    return max(2, round(timeouts.connect_seconds))


def connect_failure(error: Exception, timeouts: Timeouts) -> tuple[str, bool]:
    """Why a connection failed, and whether the server gave no answer at all (then it is remembered
    for the run). libpq's own words where they name the address (refused, not resolved)."""
    found = no_answer(error, "", connect_timeout(timeouts), timeouts.statement_seconds)
    if found is None or found.kind in ("refused", "unresolved"):
        return _first_line(error), found is not None
    return found.cause, True


def server_key(dsn: str) -> str | None:
    """Where and how a DSN reaches its server (hosts, port, TLS settings), never its credentials;
    None when it does not parse."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return None
    return "postgresql " + " ".join(f"{name}={params[name]}" for name in _SERVER_PARAMS if params.get(name))


@dataclass(frozen=True)
class Probe:
    """How a connection attempt went: time to connect and answer, or why it failed."""

    seconds: float
    error: str | None


def probe(dsn: str, timeouts: Timeouts, unanswered: Unanswered | None = None) -> Probe:
    """Connects with `dsn` and runs SELECT 1, timing the whole exchange (an address already found
    dead this run, in `unanswered`, is not waited on again)."""
    started = time.monotonic()
    try:
        with connect(dsn, timeouts, "probe", unanswered) as connection:
            connection.execute("SELECT 1")
    except TargetUnreachable as failure:
        return Probe(time.monotonic() - started, failure.cause)
    except psycopg.Error as error:
        return Probe(time.monotonic() - started, _first_line(error))
    return Probe(time.monotonic() - started, None)


class PostgresTarget:
    """One database: a lazily opened session, the catalog snapshot, and a count of queries sent."""

    def __init__(self, name: str, dsn: str, timeouts: Timeouts, unanswered: Unanswered | None = None) -> None:
        self.name = name
        self.address = address_of(dsn)
        self.role = _user_of(dsn)
        self.queries_sent = 0
        self.scope = FULL  # what of the catalog the run's checks read (set before the first read)
        self._session = Lazy(lambda: connect(dsn, timeouts, f"postgres '{name}'", unanswered))
        self._catalog = Lazy(self._read_catalog)
        self._hba = Lazy(lambda: [HbaRule.from_json(r) for r in self.fetch_one(_HBA_SQL)[0]])
        self._hba_changed = Lazy(self._read_hba_changed)
        self._with_column: dict[str, Lazy[list[str]]] = {}
        self._privileges: dict[str, RolePrivileges] = {}
        self._statements = Lazy(
            lambda: [Statement.from_json(r) for r in self.fetch_one(_STATEMENTS_SQL)[0]])

    def reach(self) -> None:
        """Opens the session now (a failure is kept for the checks, as on first use)."""
        self._session.get()

    def catalog(self) -> Catalog:
        """Roles, tables, privileges, RLS, policies, indexes, functions, settings, activity, stats."""
        return self._catalog.get()

    def _read_catalog(self) -> Catalog:
        sql, params = catalog_sql(self.scope)
        return Catalog.from_json(self.fetch_one(sql, params)[0], self.scope)

    def hba_rules(self) -> list[HbaRule]:
        """pg_hba.conf as the server parsed it (the role needs SELECT on pg_hba_file_rules)."""
        return self._hba.get()

    def hba_changed_since_load(self) -> bool:
        """Whether pg_hba.conf was written after the server last loaded its configuration (its
        modification time, in whole seconds, past the load's second): then pg_hba_file_rules shows
        the edited file, not the rules in force. Read once per run, like the rules; without
        pg_stat_file this fails, naming the grant."""
        return self._hba_changed.get()

    def _read_hba_changed(self) -> bool:
        allowed, path = self.fetch_one(
            "SELECT has_function_privilege('pg_catalog.pg_stat_file(text, boolean)', 'EXECUTE'), "
            "current_setting('hba_file')")
        if not allowed:
            raise PermissionMissing(f"postgres '{self.name}'",
                                    "cannot tell whether pg_hba.conf changed since the server loaded it: "
                                    f"{self.role} may not execute pg_stat_file",
                                    grant_for("pg_stat_file", self.role))
        (changed,) = self.fetch_one(
            "SELECT (pg_stat_file(%s, true)).modification > date_trunc('second', pg_conf_load_time())",
            (path,))
        if changed is None:
            raise PermissionMissing(f"postgres '{self.name}'", f"no file at hba_file ({path})",
                                    "check the server's hba_file setting")
        return bool(changed)

    def statements(self) -> list[Statement]:
        """This database's 50 statements with the highest mean time, the gate's own left out (none
        without the pg_stat_statements extension: a check of them judges that first)."""
        if "pg_stat_statements" not in self.catalog().extensions:
            return []
        return self._statements.get()

    def explain(self, sql: str, settings: dict[str, str] | None = None) -> list[str]:
        """The plan of a read-only query, without running it (EXPLAIN, no ANALYZE), under
        `settings` (an app role's own planner settings and search_path) for this transaction only."""
        with self._session.get().transaction() if settings else contextlib.nullcontext():
            for name, value in (settings or {}).items():
                self._execute("SELECT set_config(%s, %s, true)", (name, value))
            return [row[0] for row in self._execute(f"EXPLAIN {sql}").fetchall()]

    def privileges(self, roles: set[str]) -> dict[str, RolePrivileges]:
        """What each existing role of `roles` (PUBLIC included) may do on every object, asked of
        the server once per role (a role the catalog does not know is left out: the checks report
        it missing)."""
        for role in sorted(roles & {*self.catalog().roles, "PUBLIC"} - self._privileges.keys()):
            answer = self.fetch_one(_PRIVILEGES_SQL, ("public" if role == "PUBLIC" else role,))[0]
            self._privileges[role] = RolePrivileges.from_json(role, answer)
        return {role: self._privileges[role] for role in roles if role in self._privileges}

    def tables_with_column(self, column: str) -> list[str]:
        """Every table (schema.name) that has a column of this name, read once per column: the
        ground truth a declared list of, say, tenant tables is held against."""
        if column not in self._with_column:
            self._with_column[column] = Lazy(
                lambda: list(self.fetch_one(_TABLES_WITH_COLUMN_SQL, (column,))[0]))
        return self._with_column[column].get()

    def views_over(self, tables: list[str], role: str) -> list[ViewRead]:
        """The views and materialized views that read `tables` (schema.name), directly or through
        other views, edge by edge, with whether `role` may read each."""
        answer = self.fetch_one(_VIEWS_OVER_SQL, {"tables": [qualify(t) for t in tables], "role": role})[0]
        return [ViewRead.from_json(r) for r in answer]

    def definer_reads(self, tables: list[str], role: str) -> list[DefinerRead]:
        """The SECURITY DEFINER functions that read `tables` (schema.name), a row per function and
        table, with the bypass their owner has there and whether `role` may execute them."""
        answer = self.fetch_one(_DEFINER_READS_SQL, {"tables": [qualify(t) for t in tables], "role": role})[0]
        return [DefinerRead.from_json(r) for r in answer]

    def regex_matches(self, value: str, pattern: str) -> bool:
        """Whether the server's regular expression engine (the one pg_hba uses) finds `pattern` in
        `value` (an expression it cannot compile is an error of the check)."""
        return bool(self.fetch_one("SELECT %s ~ %s", (value, pattern))[0])

    def scalar(self, sql: str) -> Any:
        """The first column of the first row of a read-only query (None when there is no row)."""
        row = self._execute(sql).fetchone()
        return row[0] if row else None

    def fetch_one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> tuple[Any, ...]:
        row = self._execute(sql, params).fetchone()
        if row is None:
            raise ValueError("the query returned no row")
        return tuple(row)

    def _execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> psycopg.Cursor[Any]:
        """Sends one statement on the run's session; lost sessions and missing rights become
        TargetUnreachable with the cause."""
        connection = self._session.get()
        self.queries_sent += 1
        try:
            return connection.execute(sql, params or None)  # type: ignore[arg-type]
        except psycopg.errors.InsufficientPrivilege as error:
            raise PermissionMissing(f"postgres '{self.name}'", _first_line(error),
                                    grant_for(_first_line(error), self.role)) from None
        except psycopg.errors.UndefinedTable as error:
            raise CheckFailed(f"postgres '{self.name}' has the tables this check reads",
                              _first_line(error),
                              "run the app's migrations: the schema lacks what they create") from None
        except psycopg.OperationalError as error:
            raise TargetUnreachable(f"postgres '{self.name}'", self.address, _first_line(error),
                                    "the session was lost; check the server's log") from None

    def close(self) -> None:
        if self._session.opened is not None:
            self._session.opened.close()


def _user_of(dsn: str) -> str:
    """The role a DSN logs in as, for the grants a failure asks for."""
    try:
        return str(conninfo_to_dict(dsn).get("user") or "the checks' role")
    except psycopg.Error:
        return "the checks' role"


def grant_for(denied: str, role: str) -> str:
    """The grant that lets the checks' role read what the server refused."""
    if "pg_read_all_settings" in denied:
        return f"GRANT pg_read_all_settings TO {role}"
    if "pg_stat_file" in denied or "absolute path" in denied:
        return (f"GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO {role} (in this database); "
                f"where hba_file is outside the data directory, GRANT pg_read_server_files TO {role}")
    if "pg_hba_file_rules" in denied:
        return (f"GRANT SELECT ON pg_hba_file_rules TO {role}; GRANT EXECUTE ON FUNCTION "
                f"pg_hba_file_rules() TO {role} (in this database)")
    if "pg_stat_statements" in denied:
        return f"GRANT pg_read_all_stats TO {role} (pg_monitor has it)"
    return f"GRANT pg_read_all_data TO {role} (the checks read, never write)"


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
