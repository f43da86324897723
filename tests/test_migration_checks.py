"""Migration checks over hand-made Alembic scripts and Prisma rows, each failure read whole."""

from __future__ import annotations

from runbook_checks.checks import migrations
from runbook_checks.checks.migrations import PrismaMigration
from tests.failures import failure


def script(revision: str, down: str | tuple[str, ...] | None, annotated: bool = False) -> str:
    if annotated:
        return f"revision: str = {revision!r}\ndown_revision: str | None = {down!r}\n"
    return f"import sqlalchemy\nrevision = {revision!r}\ndown_revision = {down!r}\n"


SCRIPTS = {
    "0001.py": script("0001", None),
    "0002.py": script("0002", "0001", annotated=True),
    "env.py": "config = 1\n",
}
HEAD_EXPECTED = "shop at the single Alembic head 0002"


def test_alembic_revisions_and_heads() -> None:
    assert migrations.alembic_revisions(SCRIPTS) == ({"0001", "0002"}, ["0002"])
    merged = {**SCRIPTS, "0003.py": script("0003", "0001"), "0004.py": script("0004", ("0002", "0003"))}
    assert migrations.alembic_revisions(merged) == ({"0001", "0002", "0003", "0004"}, ["0004"])
    branched = {**SCRIPTS, "0003.py": script("0003", ["0001"])}
    assert migrations.alembic_revisions(branched)[1] == ["0002", "0003"]
    assert failure(migrations.alembic_revisions, {"bad.py": "revision = ("}) == (
        "Alembic scripts that parse",
        "bad.py is not valid Python",
        "point the artifact at the deployed revision's versions directory",
    )


def test_alembic_at_head_whole_failures() -> None:
    migrations.alembic_at_head(["0002"], SCRIPTS, "shop")
    assert failure(migrations.alembic_at_head, ["0001"], SCRIPTS, "shop") == (
        HEAD_EXPECTED,
        "database at 0001",
        "alembic upgrade head (alembic history shows the path)",
    )
    assert failure(migrations.alembic_at_head, [], SCRIPTS, "shop")[1] == "database at no version stamped"
    assert (
        failure(migrations.alembic_at_head, ["0001", "0002"], SCRIPTS, "shop")[1] == "database at 0001, 0002"
    )
    assert failure(migrations.alembic_at_head, ["0009", "0002", "0010"], SCRIPTS, "shop") == (
        HEAD_EXPECTED,
        "database at 0009, 0010, which the app's scripts do not have",
        "deploy the revision whose scripts made it (or alembic downgrade with those scripts); upgrade head "
        "cannot start from a revision it does not know",
    )
    branched = {**SCRIPTS, "0003.py": script("0003", "0001")}
    assert failure(migrations.alembic_at_head, ["0002"], branched, "shop") == (
        "shop at the single Alembic head (one head)",
        "2 heads in the scripts: 0002, 0003",
        "merge the branches: alembic merge heads, then alembic upgrade head",
    )
    assert (
        failure(migrations.alembic_at_head, [], {"env.py": ""}, "shop")[1] == "0 heads in the scripts: none"
    )


def test_prisma_whole_failures() -> None:
    rows = [PrismaMigration("1_init", True, False), PrismaMigration("2_users", True, False)]
    migrations.prisma_applied(rows + [PrismaMigration("3_gone", False, True)], ["1_init", "2_users"], "music")
    broken = [
        PrismaMigration("1_init", True, False),
        PrismaMigration("2_users", False, False),
        PrismaMigration("9_newer", True, False),
        PrismaMigration("8_undone", True, True),
    ]
    assert failure(migrations.prisma_applied, broken, ["1_init", "2_users", "3_next"], "music") == (
        "music: the app's Prisma migrations applied, no other, none failed",
        "2_users: started but not finished (failed)\n2_users: pending (not in the database)\n"
        "3_next: pending (not in the database)\n9_newer: recorded in the database, not shipped by the app",
        "prisma migrate resolve --rolled-back <name> for each failed one; then prisma migrate deploy; then "
        "deploy the app revision that ships them (this one is older, or from another branch)",
    )
    assert failure(migrations.prisma_applied, rows, ["1_init", "2_users", "3_next"], "music")[1:] == (
        "3_next: pending (not in the database)",
        "prisma migrate deploy",
    )
    assert failure(migrations.prisma_applied, rows, ["1_init"], "music")[2] == (
        "deploy the app revision that ships them (this one is older, or from another branch)"
    )
    assert migrations.prisma_app_migrations({"2_b/migration.sql": "", "1_a/migration.sql": ""}) == [
        "1_a",
        "2_b",
    ]
