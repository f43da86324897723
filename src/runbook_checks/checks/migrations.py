"""Migrations: Alembic's version table at the single head of the app's scripts; Prisma's table
without failed, unfinished or missing migrations."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook_checks.errors import CheckFailed


def _assigned(tree: ast.Module, name: str) -> Any:
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return ast.literal_eval(value)
    return None


def alembic_revisions(scripts: dict[str, str]) -> tuple[set[str], list[str]]:
    """Every revision of an Alembic versions directory and its heads (file name -> text; read,
    not imported)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for name, text in scripts.items():
        try:
            tree = ast.parse(text)
        except SyntaxError:
            raise CheckFailed("Alembic scripts that parse", f"{name} is not valid Python",
                              "point the artifact at the deployed revision's versions directory") from None
        revision = _assigned(tree, "revision")
        if not revision:
            continue
        revisions.add(revision)
        down = _assigned(tree, "down_revision")
        parents |= set(down) if isinstance(down, (tuple, list)) else ({down} if down else set())
    return revisions, sorted(revisions - parents)


def alembic_at_head(current: list[str], scripts: dict[str, str], database: str) -> None:
    """One head in the scripts, and the database stamped with it; a revision the scripts do not
    know (a newer deploy's, a branch's, a hand edit) is its own finding, with its own fix."""
    revisions, heads = alembic_revisions(scripts)
    expected = f"{database} at the single Alembic head {heads[0] if len(heads) == 1 else '(one head)'}"
    if len(heads) != 1:
        raise CheckFailed(expected, f"{len(heads)} heads in the scripts: {', '.join(heads) or 'none'}",
                          "merge the branches: alembic merge heads, then alembic upgrade head")
    unknown = [revision for revision in current if revision not in revisions]
    if unknown:
        raise CheckFailed(expected, f"database at {', '.join(unknown)}, which the app's scripts do not "
                          "have", "deploy the revision whose scripts made it (or alembic downgrade with "
                          "those scripts); upgrade head cannot start from a revision it does not know")
    if current != heads:
        found = ", ".join(current) if current else "no version stamped"
        raise CheckFailed(expected, f"database at {found}",
                          "alembic upgrade head (alembic history shows the path)")


@dataclass(frozen=True)
class PrismaMigration:
    name: str
    finished: bool
    rolled_back: bool


def prisma_applied(rows: list[PrismaMigration], app_migrations: list[str], database: str) -> None:
    """No failed or unfinished migration, every migration the app ships applied, and none applied
    that the app does not ship (a newer deploy's, or one from another branch). The fix follows
    what was found."""
    applied = {r.name for r in rows if r.finished and not r.rolled_back}
    shipped = set(app_migrations)
    failed = [f"{r.name}: started but not finished (failed)" for r in rows
              if not r.finished and not r.rolled_back]
    pending = [f"{name}: pending (not in the database)" for name in app_migrations if name not in applied]
    unknown = [f"{r.name}: recorded in the database, not shipped by the app" for r in rows
               if r.name not in shipped and r.finished and not r.rolled_back]
    fixes = [fix for found, fix in (
        (failed, "prisma migrate resolve --rolled-back <name> for each failed one"),
        (pending, "prisma migrate deploy"),
        (unknown, "deploy the app revision that ships them (this one is older, or from another branch)"),
    ) if found]
    if fixes:
        raise CheckFailed(f"{database}: the app's Prisma migrations applied, no other, none failed",
                          "\n".join(failed + pending + unknown), "; then ".join(fixes))


def prisma_app_migrations(files: dict[str, str]) -> list[str]:
    """The migration names an app ships, from its prisma/migrations/<name>/migration.sql files."""
    return sorted(Path(name).parent.name for name in files)
