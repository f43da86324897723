"""Checks of an app's deployed tree: the import alias its TypeScript configuration maps, and the
Prisma client generated from the schema it ships. Pure functions over what the deployed-tree
target read; a file that could not be read or parsed fails the check with why."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.prisma_schema import blocks, differing_blocks
from runbook_checks.facts.tsconfig import merged_paths

if TYPE_CHECKING:
    from runbook_checks.facts.hosts import FileText
    from runbook_checks.facts.prisma_schema import GeneratedClient
    from runbook_checks.facts.tsconfig import ConfigFile

# What each client generator writes that an app cannot start without (one of each group).
CLIENT_FILES = {
    "prisma-client-js": (("index.js",), ("default.js",), ("package.json",), ("schema.prisma",)),
    "prisma-client": (("client.ts", "client.js", "client.mts"),),
}


def alias_maps_to(chain: list[ConfigFile], root: str, alias: str, target: str) -> None:
    """The TypeScript configuration in force (the file and all it extends) maps `alias` first to
    `target` (relative to the deployed tree's root), as TypeScript resolves it: the nearest `paths`
    and `baseUrl`, the targets joined with the base."""
    head = chain[0].path if chain else root
    expected = f"{head} maps {alias} to {target} (first)"
    fix = (f'set compilerOptions.paths {{"{alias}": ["{target}"]}} (with baseUrl ".") in {head}, '
           "then rebuild and redeploy")
    broken = next((file for file in chain if file.config is None), None)
    if not chain or broken is not None:
        where = broken.path if broken else head
        raise CheckFailed(expected, f"{where}: {broken.problem if broken else 'not read'}", fix)
    try:
        mapping = merged_paths(chain)
    except ValueError as error:
        raise CheckFailed(expected, str(error), fix) from None
    read = f" (read: {', '.join(file.path for file in chain)})" if len(chain) > 1 else ""
    if mapping is None:
        raise CheckFailed(expected, f"no compilerOptions.paths in {head}{read}", fix)
    wanted = posixpath.normpath(posixpath.join(root, target))
    targets = mapping.targets.get(alias)
    if not targets:
        aliases = ", ".join(sorted(mapping.targets)) or "none"
        raise CheckFailed(expected, f"{mapping.declared_in} maps no {alias} (its aliases: {aliases}){read}",
                          fix)
    if targets[0] != wanted:
        shown = ", ".join(_relative(t, root) for t in targets)
        raise CheckFailed(expected, f"{mapping.declared_in} maps {alias} to {shown}{read}", fix)


def _relative(path: str, root: str) -> str:
    """A path as the tree's own ./ form where it lies inside the tree."""
    relative = posixpath.relpath(path, root)
    return path if relative.startswith("..") else f"./{relative}"


def prisma_client_current(schema: FileText, clients: list[GeneratedClient]) -> None:
    """The deployed schema has a client generator, each writes a complete client where the app
    loads it, and that client was generated from the deployed schema (its copy of the schema holds
    the same blocks): a client of an older schema is the same incident as none."""
    expected = f"a Prisma client generated from {schema.path}"
    fix = "run `prisma generate` in the build (after every schema change and npm install), then redeploy"
    if schema.text is None:
        raise CheckFailed(expected, f"{schema.path}: {schema.problem}",
                          "deploy the app's prisma/schema.prisma with it, or correct apps.<app>.deploy")
    try:
        blocks(schema.text)
    except ValueError as error:
        raise CheckFailed(expected, f"{schema.path} does not parse: {error}", "correct the schema (prisma "
                          "validate), then generate and redeploy") from None
    if not clients:
        raise CheckFailed(expected, f"{schema.path} has no prisma-client-js or prisma-client generator",
                          "add a client generator to the schema, then generate and redeploy")
    problems = [problem for client in clients for problem in _client_problems(schema, client)]
    if problems:
        raise CheckFailed(expected, "\n".join(problems), fix)


def _client_problems(schema: FileText, client: GeneratedClient) -> list[str]:
    generator, files = client.generator, client.files
    name = f"generator {generator.name} ({generator.provider})"
    if files is None:
        return [f"{name}: its output is set by an environment variable the gate cannot see"]
    if not files.exists:
        return [f"{name}: no generated client in {files.path}"]
    missing = [" or ".join(group) for group in CLIENT_FILES[generator.provider]
               if not any(files.sizes.get(file) for file in group)]
    if missing:
        return [f"{name}: {files.path} lacks {', '.join(missing)} (missing or empty)"]
    copy = client.schema_copy
    if copy is None or copy.text is None:
        where = copy.path if copy else files.path
        return [f"{name}: the schema it was generated from cannot be read ({where}: "
                f"{copy.problem if copy else 'nothing there'})"]
    try:
        differences = differing_blocks(schema.text or "", copy.text)
    except ValueError as error:
        return [f"{name}: a schema does not parse: {error}"]
    if differences:
        return [f"{name}: generated from another schema than {schema.path}: {'; '.join(differences)}"]
    return []
