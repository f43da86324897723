"""The deployed tree of an app, read where the environment says it is deployed (apps.<app>.deploy:
a path on a host, read through testinfra): its TypeScript configuration with every file it
extends, its Prisma schema, and the client the schema's generator wrote. Reads are bounded: a
file's size is asked before it is read, and only the files the checks name are read."""

from __future__ import annotations

import json
import posixpath
import re
from typing import TYPE_CHECKING

from runbook_checks.facts.hosts import FileText
from runbook_checks.facts.prisma_schema import GeneratedClient, client_generators
from runbook_checks.facts.tsconfig import MAX_EXTENDS, ConfigFile, extends_candidates, extends_of, parse_jsonc

if TYPE_CHECKING:
    from runbook_checks.facts.hosts import DirectoryFiles
    from runbook_checks.facts.prisma_schema import ClientGenerator
    from runbook_checks.targets.hosts import HostTarget

# A tsconfig or a Prisma schema is a few KiB; more is not one (and is not read whole).
MAX_CONFIG_BYTES = 256 * 1024
MAX_SCHEMA_BYTES = 1024 * 1024
# The generated file that holds the schema `prisma-client` inlined, per extension it is written in.
_INLINED_IN = ("internal/class.ts", "internal/class.js")
_INLINE_SCHEMA = re.compile(r'"inlineSchema":\s*("(?:[^"\\]|\\.)*")')


class DeployedTree:
    """The tree `root` on `host`, as the app runs from it."""

    def __init__(self, app: str, host: HostTarget, root: str) -> None:
        self.app = app
        self.host = host
        self.root = posixpath.normpath(root)

    def path(self, relative: str) -> str:
        return posixpath.normpath(posixpath.join(self.root, relative))

    def tsconfig_chain(self, relative: str) -> list[ConfigFile]:
        """The configuration file and each file it extends, nearest first (a base after the files
        that extend it; of a list, the last first, as the later ones win). The chain ends at the
        first file that cannot be read or parsed, which carries why."""
        chain: list[ConfigFile] = []
        self._follow([self.path(relative)], chain, ())
        return chain

    def _follow(self, candidates: list[str], chain: list[ConfigFile], extending: tuple[str, ...]) -> bool:
        """Appends the first of `candidates` that is there (else the first, with why), then what
        it extends; False once a file of the chain has a problem. `extending`: the files that
        extend it, down from the first (one of them again is a loop; a base two files share is not)."""
        if len(chain) >= MAX_EXTENDS:
            chain.append(ConfigFile(candidates[0], None, f"more than {MAX_EXTENDS} files extend each other"))
            return False
        found = first = self.host.file_text(candidates[0], MAX_CONFIG_BYTES)
        for candidate in candidates[1:]:
            if found.problem != "nothing there":
                break
            found = self.host.file_text(candidate, MAX_CONFIG_BYTES)
        if found.problem == "nothing there":
            found = first
        if found.text is None:
            chain.append(ConfigFile(found.path, None, found.problem))
            return False
        try:
            config = parse_jsonc(found.text)
            if not isinstance(config, dict):
                raise ValueError("its top level is not an object")
            bases = extends_of(config)
        except ValueError as error:
            chain.append(ConfigFile(found.path, None, f"not valid JSON with comments: {error}"))
            return False
        if found.path in extending:
            chain.append(ConfigFile(found.path, None, "it extends itself (a loop)"))
            return False
        chain.append(ConfigFile(found.path, config))
        for base in reversed(bases):
            candidates = extends_candidates(found.path, base, self.root)
            if not self._follow(candidates, chain, (*extending, found.path)):
                return False
        return True

    def prisma_schema(self, relative: str) -> FileText:
        return self.host.file_text(self.path(relative), MAX_SCHEMA_BYTES)

    def generated_clients(self, schema: FileText) -> list[GeneratedClient]:
        """For each client generator of the schema, what is in its output directory and the schema
        copy it wrote there; none where the schema does not parse (the check says why)."""
        try:
            generators = client_generators(schema.text or "", schema.path, self.root)
        except ValueError:
            return []
        clients = []
        for generator in generators:
            if generator.output is None:
                clients.append(GeneratedClient(generator, None, None))
                continue
            files = self.host.directory_files(generator.output)
            clients.append(GeneratedClient(generator, files, self._schema_copy(generator, files)))
        return clients

    def _schema_copy(self, generator: ClientGenerator, files: DirectoryFiles) -> FileText | None:
        """The schema the client was generated from: `prisma-client-js` copies it beside the client,
        `prisma-client` inlines it in its class module."""
        output = generator.output or ""
        if not files.exists:
            return None
        if generator.provider == "prisma-client-js":
            return self.host.file_text(posixpath.join(output, "schema.prisma"), MAX_SCHEMA_BYTES)
        for relative in _INLINED_IN:
            module = self.host.file_text(posixpath.join(output, relative), MAX_SCHEMA_BYTES * 4)
            if module.text is None:
                continue
            inlined = _INLINE_SCHEMA.search(module.text)
            if inlined is None:
                return FileText(module.host, module.path, None, "holds no inlined schema")
            return FileText(module.host, module.path, json.loads(inlined.group(1)))
        return FileText(self.host.name, posixpath.join(output, _INLINED_IN[0]), None, "nothing there")
