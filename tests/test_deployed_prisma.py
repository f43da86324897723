"""The generated-client check (audiospective.3) over real deployed trees: the schema and the client
`prisma generate` wrote in the stack's Node build (prisma-client-js, into node_modules/.prisma/
client), and a client of the newer `prisma-client` generator generated here, each copied into a
directory and read through testinfra's local backend, as the gate reads a deployed tree."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runbook_checks.checks.deployed import prisma_client_current
from runbook_checks.environment import Timeouts
from runbook_checks.facts.hosts import DirectoryFiles, FileText
from runbook_checks.facts.prisma_schema import ClientGenerator, GeneratedClient, tokens
from runbook_checks.targets.deployed import DeployedTree
from runbook_checks.targets.hosts import HostTarget
from runbook_harness import node_build
from tests.failures import failure

SCHEMA = "prisma/schema.prisma"
CLIENT = "node_modules/.prisma/client"
PLAYLISTS = '\nmodel Playlist {\n  id String @id\n\n  @@map("playlists")\n}\n'


@pytest.fixture(scope="module")
def build() -> Path:
    return node_build.built()


@pytest.fixture(scope="module")
def deployed_schema(build: Path) -> str:
    return (build / "audiospective-web" / SCHEMA).read_text()


def release(root: Path, build: Path, schema: str | None, client: bool = True) -> DeployedTree:
    """A deployed tree with `schema` as its prisma/schema.prisma (None: none) and the build's
    generated client (unless told not to)."""
    if schema is not None:
        (root / "prisma").mkdir(parents=True)
        (root / SCHEMA).write_text(schema)
    if client:
        shutil.copytree(build / CLIENT, root / CLIENT)
    return DeployedTree("web", HostTarget("web", "local://", Timeouts()), str(root))


def holds(deployed: DeployedTree) -> None:
    schema = deployed.prisma_schema(SCHEMA)
    prisma_client_current(schema, deployed.generated_clients(schema))


def found(deployed: DeployedTree) -> str:
    schema = deployed.prisma_schema(SCHEMA)
    expected, seen, fix = failure(prisma_client_current, schema, deployed.generated_clients(schema))
    assert expected == f"a Prisma client generated from {deployed.root}/{SCHEMA}"
    assert "prisma generate" in fix or "schema" in fix
    return seen


def test_the_build_s_client_of_the_deployed_schema_holds(tmp_path: Path, build: Path,
                                                          deployed_schema: str) -> None:
    holds(release(tmp_path, build, deployed_schema))


def test_layout_and_comments_do_not_count(tmp_path: Path, build: Path, deployed_schema: str) -> None:
    lines = (" ".join(line.split()) for line in deployed_schema.splitlines())
    relaid = "// reformatted by hand\n" + "\n\n".join(lines)
    assert tokens(relaid) == tokens(deployed_schema)
    holds(release(tmp_path, build, relaid))


def test_a_client_of_an_older_schema_fails_naming_the_new_model(tmp_path: Path, build: Path,
                                                                 deployed_schema: str) -> None:
    seen = found(release(tmp_path, build, deployed_schema + PLAYLISTS))
    assert seen == (f"generator client (prisma-client-js): generated from another schema than "
                    f"{tmp_path}/{SCHEMA}: model Playlist: in the deployed schema only")


def test_a_changed_field_fails_naming_its_model(tmp_path: Path, build: Path, deployed_schema: str) -> None:
    changed = deployed_schema.replace("  accessToken ", "  email String?\n  accessToken ")
    assert changed != deployed_schema
    assert found(release(tmp_path, build, changed)).endswith("model User: changed")


def test_a_model_dropped_from_the_schema_fails_too(tmp_path: Path, build: Path, deployed_schema: str) -> None:
    start = deployed_schema.index("model ShareableReport")
    dropped = deployed_schema[:start] + deployed_schema[deployed_schema.index("}", start) + 1:]
    dropped = dropped.replace("  reports          ShareableReport[]\n", "")
    seen = found(release(tmp_path, build, dropped))
    assert "model ShareableReport: in the client's copy only" in seen and "model User: changed" in seen


def test_no_client_fails(tmp_path: Path, build: Path, deployed_schema: str) -> None:
    assert found(release(tmp_path, build, deployed_schema, client=False)) == (
        f"generator client (prisma-client-js): no generated client in {tmp_path}/{CLIENT}")


@pytest.mark.parametrize(("emptied", "lacks"), [("index.js", "index.js, default.js"),
                                               ("schema.prisma", "default.js, schema.prisma")])
def test_a_client_missing_a_file_or_with_it_empty_fails(tmp_path: Path, build: Path, deployed_schema: str,
                                                        emptied: str, lacks: str) -> None:
    deployed = release(tmp_path, build, deployed_schema)
    (tmp_path / CLIENT / "default.js").unlink()
    (tmp_path / CLIENT / emptied).write_text("")
    assert found(deployed) == (f"generator client (prisma-client-js): {tmp_path}/{CLIENT} lacks {lacks} "
                               "(missing or empty)")


def test_a_client_generated_elsewhere_is_found_at_its_output(tmp_path: Path, build: Path,
                                                             deployed_schema: str) -> None:
    elsewhere = deployed_schema.replace('provider = "prisma-client-js"',
                                        'provider = "prisma-client-js"\n  output = "../generated/client"')
    deployed = release(tmp_path, build, elsewhere, client=False)
    assert found(deployed).endswith(f"no generated client in {tmp_path}/generated/client")
    shutil.copytree(build / CLIENT, tmp_path / "generated" / "client")
    (tmp_path / "generated" / "client" / "schema.prisma").write_text(elsewhere)
    holds(deployed)


@pytest.mark.parametrize(("schema", "seen"), [
    (None, f"{SCHEMA}: nothing there"),
    ('datasource db {\n  provider = "postgresql"\n}\n', "has no prisma-client-js or prisma-client generator"),
    ('generator client {\n  provider = "prisma-client-js"\n', "does not parse: the block generator client is "
                                                              "not closed"),
    ('provider = "prisma-client-js"\n', "does not parse: 'provider' stands outside a block"),
    ('generator client {\n  provider = "prisma-client-js"\n  output = env("CLIENT_DIR")\n}\n',
     "its output is set by an environment variable the gate cannot see"),
], ids=["no-schema", "no-generator", "unclosed", "outside-a-block", "output-from-env"])
def test_a_schema_the_gate_cannot_follow_fails_closed(tmp_path: Path, build: Path, schema: str | None,
                                                      seen: str) -> None:
    assert seen in found(release(tmp_path, build, schema))


def test_the_newer_generator_s_inlined_schema_is_compared(tmp_path: Path, build: Path,
                                                          deployed_schema: str) -> None:
    """`prisma-client` writes TypeScript where `output` says, with the schema inlined in its class
    module: generated here, offline, as the build generates."""
    schema = deployed_schema.replace('provider = "prisma-client-js"',
                                     'provider = "prisma-client"\n  output   = "../generated/prisma"')
    deployed = release(tmp_path, build, schema, client=False)
    subprocess.run([str(build / "node_modules" / ".bin" / "prisma"), "generate", "--schema", SCHEMA],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120,
                   env={**os.environ, "PRISMA_SCHEMA_ENGINE_BINARY": "/bin/false"})
    holds(deployed)
    (tmp_path / SCHEMA).write_text(schema + PLAYLISTS)
    assert found(deployed).endswith("model Playlist: in the deployed schema only")
    (tmp_path / "generated" / "prisma" / "client.ts").unlink()
    assert found(deployed).endswith("lacks client.ts or client.js or client.mts (missing or empty)")


# Each failure whole, on the facts the target reads.

PATH = "/srv/web/prisma/schema.prisma"
OUT = "/srv/web/node_modules/.prisma/client"
TEXT = 'generator client {\n  provider = "prisma-client-js"\n}\nmodel A {\n  id Int @id\n}\n'
GENERATE = "run `prisma generate` in the build (after every schema change and npm install), then redeploy"
JS = ClientGenerator("client", "prisma-client-js", OUT)
COMPLETE = {"index.js": 10, "default.js": 10, "package.json": 10, "schema.prisma": 10}


def schema_failure(schema: FileText, *clients: GeneratedClient) -> tuple[str, str, str]:
    return failure(prisma_client_current, schema, list(clients))


def client(copy: FileText | None, generator: ClientGenerator = JS) -> GeneratedClient:
    return GeneratedClient(generator, DirectoryFiles("web", OUT, True, COMPLETE), copy)


def test_a_schema_that_cannot_be_read_parsed_or_has_no_generator_fails_whole() -> None:
    expected = f"a Prisma client generated from {PATH}"
    assert schema_failure(FileText("web", PATH, None, "nothing there")) == (
        expected, f"{PATH}: nothing there",
        "deploy the app's prisma/schema.prisma with it, or correct apps.<app>.deploy")
    assert schema_failure(FileText("web", PATH, "model A {\n")) == (
        expected, f"{PATH} does not parse: the block model A is not closed",
        "correct the schema (prisma validate), then generate and redeploy")
    assert schema_failure(FileText("web", PATH, "model A {\n  id Int @id\n}\n")) == (
        expected, f"{PATH} has no prisma-client-js or prisma-client generator",
        "add a client generator to the schema, then generate and redeploy")


def test_a_client_whose_schema_copy_cannot_be_read_fails_naming_where() -> None:
    schema = FileText("web", PATH, TEXT)
    prisma_client_current(schema, [client(FileText("web", f"{OUT}/schema.prisma", TEXT))])
    assert schema_failure(schema, client(None)) == (
        f"a Prisma client generated from {PATH}",
        f"generator client (prisma-client-js): the schema it was generated from cannot be read ({OUT}: "
        "nothing there)", GENERATE)
    unreadable = FileText("web", f"{OUT}/schema.prisma", None, "not UTF-8 text")
    assert schema_failure(schema, client(unreadable))[1] == (
        f"generator client (prisma-client-js): the schema it was generated from cannot be read "
        f"({OUT}/schema.prisma: not UTF-8 text)")


def test_every_client_s_every_difference_is_named() -> None:
    schema = FileText("web", PATH, TEXT)
    older = TEXT.replace("Int", "String") + "model B {\n  id Int @id\n}\n"
    other = ClientGenerator("edge", "prisma-client", "/srv/web/generated")
    newer = GeneratedClient(other, DirectoryFiles("web", "/srv/web/generated", True, {"client.mts": 1}), None)
    assert schema_failure(schema, client(FileText("web", f"{OUT}/schema.prisma", older)), newer)[1:] == (
        f"generator client (prisma-client-js): generated from another schema than {PATH}: model B: in the "
        "client's copy only; model A: changed\n"
        "generator edge (prisma-client): the schema it was generated from cannot be read "
        "(/srv/web/generated: nothing there)", GENERATE)
