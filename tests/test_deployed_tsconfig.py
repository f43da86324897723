"""The import-alias check (audiospective.2) over real deployed trees: tsconfig.json files written
to a directory and read through testinfra's local backend, as the gate reads a deployed tree on
its host. Each case is a way TypeScript itself resolves (or refuses) the `@/*` mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook_checks.checks.deployed import alias_maps_to
from runbook_checks.environment import Timeouts
from runbook_checks.facts.tsconfig import ConfigFile, parse_jsonc
from runbook_checks.targets.deployed import MAX_CONFIG_BYTES, DeployedTree
from runbook_checks.targets.hosts import HostTarget
from tests.failures import failure


def tree(root: Path, files: dict[str, str]) -> DeployedTree:
    """A deployed tree holding `files` (relative path -> text), read on this machine."""
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    return DeployedTree("web", HostTarget("web", "local://", Timeouts()), str(root))


def holds(deployed: DeployedTree) -> None:
    alias_maps_to(deployed.tsconfig_chain("tsconfig.json"), deployed.root, "@/*", "./src/*")


def found(deployed: DeployedTree) -> str:
    expected, seen, fix = failure(alias_maps_to, deployed.tsconfig_chain("tsconfig.json"), deployed.root,
                                  "@/*", "./src/*")
    assert expected == f"{deployed.root}/tsconfig.json maps @/* to ./src/* (first)"
    assert fix.startswith('set compilerOptions.paths {"@/*": ["./src/*"]} (with baseUrl ".")')
    return seen


def options(**values: object) -> str:
    return json.dumps({"compilerOptions": values})


@pytest.mark.parametrize("compiler_options", [
    {"baseUrl": ".", "paths": {"@/*": ["./src/*"]}},
    {"baseUrl": "./src", "paths": {"@/*": ["*"]}},
    {"baseUrl": "src/", "paths": {"@/*": ["./*"]}},
    {"paths": {"@/*": ["./src/*"]}},  # no baseUrl: relative to the file (TypeScript 4.1+)
    {"baseUrl": ".", "paths": {"@/*": ["./src/*", "./generated/*"]}},  # src first, a fallback after
], ids=["base-dot", "base-src", "base-src-slash", "no-base", "fallback-after"])
def test_mappings_typescript_resolves_to_src_hold(tmp_path: Path,
                                                  compiler_options: dict[str, object]) -> None:
    holds(tree(tmp_path, {"tsconfig.json": json.dumps({"compilerOptions": compiler_options})}))


def test_comments_and_trailing_commas_are_read_as_typescript_reads_them(tmp_path: Path) -> None:
    text = """{
      // the app's aliases
      "compilerOptions": {
        /* resolved from the project root */ "baseUrl": ".",
        "paths": {"@/*": ["./src/*",],},   // trailing commas
        "outDir": "dist//out", "note": "a /* not a comment */ and a // neither",
      },
    }"""
    holds(tree(tmp_path, {"tsconfig.json": text}))
    assert parse_jsonc(text)["compilerOptions"]["note"] == "a /* not a comment */ and a // neither"


def test_a_base_in_a_subdirectory_resolves_its_paths_from_its_own_directory(tmp_path: Path) -> None:
    holds(tree(tmp_path, {"tsconfig.json": '{"extends": "./config/base"}',  # .json added, as tsc does
                          "config/base.json": options(baseUrl="..", paths={"@/*": ["src/*"]})}))


def test_a_base_without_base_url_maps_from_where_it_lies(tmp_path: Path) -> None:
    deployed = tree(tmp_path, {"tsconfig.json": '{"extends": "./config/tsconfig.base.json"}',
                               "config/tsconfig.base.json": options(paths={"@/*": ["./src/*"]})})
    assert found(deployed) == (f"{tmp_path}/config/tsconfig.base.json maps @/* to ./config/src/* "
                               f"(read: {tmp_path}/tsconfig.json, {tmp_path}/config/tsconfig.base.json)")


def test_the_extending_file_s_base_url_applies_to_the_base_s_paths(tmp_path: Path) -> None:
    holds(tree(tmp_path, {"tsconfig.json": '{"extends": "./base.json", '
                                           '"compilerOptions": {"baseUrl": "src"}}',
                          "base.json": options(paths={"@/*": ["*"]})}))


def test_the_extending_file_s_paths_replace_the_base_s_whole(tmp_path: Path) -> None:
    deployed = tree(tmp_path, {"tsconfig.json": '{"extends": "./base.json", "compilerOptions": '
                                                '{"paths": {"~/*": ["./lib/*"]}}}',
                               "base.json": options(baseUrl=".", paths={"@/*": ["./src/*"]})})
    assert found(deployed).startswith(f"{tmp_path}/tsconfig.json maps no @/* (its aliases: ~/*)")


def test_of_several_bases_the_last_wins(tmp_path: Path) -> None:
    files = {"a.json": options(baseUrl=".", paths={"@/*": ["./src/*"]}),
             "b.json": options(baseUrl=".", paths={"@/*": ["./app/*"]})}
    later_wins = tree(tmp_path, {**files, "tsconfig.json": '{"extends": ["./a", "./b"]}'})
    assert "maps @/* to ./app/*" in found(later_wins)
    holds(tree(tmp_path, {**files, "tsconfig.json": '{"extends": ["./b", "./a"]}'}))


def test_a_base_two_files_share_is_no_loop(tmp_path: Path) -> None:
    holds(tree(tmp_path, {"tsconfig.json": '{"extends": ["./a.json", "./b.json"]}',
                          "a.json": '{"extends": "./base.json"}', "b.json": '{"extends": "./base.json"}',
                          "base.json": options(baseUrl=".", paths={"@/*": ["./src/*"]})}))


def test_a_base_from_a_package_in_node_modules(tmp_path: Path) -> None:
    holds(tree(tmp_path, {"tsconfig.json": '{"extends": "@acme/tsconfig/next.json", "compilerOptions": '
                                           '{"baseUrl": "."}}',
                          "node_modules/@acme/tsconfig/next.json": options(paths={"@/*": ["./src/*"]})}))
    package_s_own = options(paths={"@/*": ["../../../src/*"]})  # from the package's directory
    holds(tree(tmp_path / "second", {"tsconfig.json": '{"extends": "@acme/base"}',
                                     "node_modules/@acme/base/tsconfig.json": package_s_own}))


@pytest.mark.parametrize(("compiler_options", "seen"), [
    ({"baseUrl": ".", "paths": {"@/*": ["./app/*"]}}, "maps @/* to ./app/*"),
    ({"baseUrl": ".", "paths": {"@/*": ["./generated/*", "./src/*"]}}, "maps @/* to ./generated/*, ./src/*"),
    ({"baseUrl": "./src", "paths": {"@/*": ["./src/*"]}}, "maps @/* to ./src/src/*"),
    ({"baseUrl": ".", "paths": {"@/lib/*": ["./src/lib/*"]}}, "maps no @/* (its aliases: @/lib/*)"),
    ({"baseUrl": ".", "paths": {"@/*": ["/opt/other/src/*"]}}, "maps @/* to /opt/other/src/*"),
    ({"baseUrl": "."}, "no compilerOptions.paths in "),
    ({"baseUrl": ".", "paths": ["./src/*"]},
     "compilerOptions.paths is not a map of aliases to lists of paths"),
    ({"baseUrl": 1, "paths": {"@/*": ["./src/*"]}}, "compilerOptions.baseUrl is not a path"),
], ids=["elsewhere", "src-second", "src-twice", "narrower-alias", "outside-the-tree", "no-paths",
        "paths-a-list", "base-url-a-number"])
def test_mappings_elsewhere_or_missing_fail(tmp_path: Path, compiler_options: dict[str, object],
                                            seen: str) -> None:
    assert seen in found(tree(tmp_path, {"tsconfig.json": json.dumps({"compilerOptions": compiler_options})}))


@pytest.mark.parametrize(("files", "seen"), [
    ({}, "tsconfig.json: nothing there"),
    ({"tsconfig.json/inner": "{}"}, "tsconfig.json: not a regular file"),
    ({"tsconfig.json": '{"compilerOptions": {"paths": {"@/*": ["./src/*"]}'},
     "not valid JSON with comments: Expecting ',' delimiter: line 1"),
    ({"tsconfig.json": '{"compilerOptions": /* never closed'}, "a comment is not closed (line 1)"),
    ({"tsconfig.json": '["./src/*"]'}, "its top level is not an object"),
    ({"tsconfig.json": '{"extends": 7}'}, "extends is neither a path nor a list of paths"),
    ({"tsconfig.json": '{"extends": "./missing.json"}'}, "missing.json: nothing there"),
    ({"tsconfig.json": '{"extends": "./a.json"}', "a.json": '{"extends": "./tsconfig.json"}'},
     "tsconfig.json: it extends itself (a loop)"),
    ({"tsconfig.json": " " * MAX_CONFIG_BYTES + "{}"}, f"larger than the {MAX_CONFIG_BYTES} bytes read"),
], ids=["missing", "a-directory", "malformed", "open-comment", "not-an-object", "extends-a-number",
        "base-missing", "loop", "too-large"])
def test_a_configuration_that_cannot_be_read_fails_closed(tmp_path: Path, files: dict[str, str],
                                                          seen: str) -> None:
    assert seen in found(tree(tmp_path, files))


def test_a_configuration_in_another_encoding_fails_closed(tmp_path: Path) -> None:
    (tmp_path / "tsconfig.json").write_bytes('{"compilerOptions": {}}'.encode("utf-16"))
    assert found(tree(tmp_path, {})) == f"{tmp_path}/tsconfig.json: not UTF-8 text"


def test_an_extends_chain_deeper_than_typescript_would_follow_fails(tmp_path: Path) -> None:
    files = {f"c{i}.json": f'{{"extends": "./c{i + 1}.json"}}' for i in range(40)}
    assert "more than 16 files extend each other" in found(tree(tmp_path, {**files, "tsconfig.json":
                                                                           '{"extends": "./c0.json"}'}))


# Each failure whole, on the chain as the target reads it.

ROOT = "/srv/web"
FIX = f'set compilerOptions.paths {{"@/*": ["./src/*"]}} (with baseUrl ".") in {ROOT}/tsconfig.json, ' \
      "then rebuild and redeploy"


def alias_failure(*chain: ConfigFile) -> tuple[str, str, str]:
    return failure(alias_maps_to, list(chain), ROOT, "@/*", "./src/*")


def test_no_chain_read_fails_whole_naming_the_tree() -> None:
    assert alias_failure() == (f"{ROOT} maps @/* to ./src/* (first)", f"{ROOT}: not read",
                               'set compilerOptions.paths {"@/*": ["./src/*"]} (with baseUrl ".") in '
                               "/srv/web, then rebuild and redeploy")


def test_a_single_file_s_failure_names_no_chain_read() -> None:
    paths = {"@/*": ["./app/*", "/opt/x/*"]}
    config = ConfigFile(f"{ROOT}/tsconfig.json", {"compilerOptions": {"paths": paths}})
    assert alias_failure(config) == (f"{ROOT}/tsconfig.json maps @/* to ./src/* (first)",
                                     f"{ROOT}/tsconfig.json maps @/* to ./app/*, /opt/x/*", FIX)
    broken = ConfigFile(f"{ROOT}/base.json", None, "nothing there")
    found = alias_failure(ConfigFile(f"{ROOT}/tsconfig.json", {}), broken)[1]
    assert found == f"{ROOT}/base.json: nothing there"


@pytest.mark.parametrize(("paths", "aliases"), [({}, "none"),
                                                ({"~/*": ["./lib/*"], "#/*": ["./x/*"]}, "#/*, ~/*")])
def test_a_mapping_without_the_alias_names_the_aliases_it_has(paths: dict[str, list[str]],
                                                              aliases: str) -> None:
    config = ConfigFile(f"{ROOT}/tsconfig.json", {"compilerOptions": {"paths": paths}})
    assert alias_failure(config)[1:] == (f"{ROOT}/tsconfig.json maps no @/* (its aliases: {aliases})", FIX)
