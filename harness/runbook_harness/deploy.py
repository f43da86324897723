"""Each stack's own deploy of the Node apps that run from a deployed tree (audiospective's web app),
as a release directory on a server holds one: the build's app directory copied into the stack
directory's deploy/, with its dependencies linked from the machine's build, not copied, and its
generated Prisma client copied, so that what a fault changes there never reaches the shared build.
The app's processes run from it; the checks read it there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from runbook_harness import node_build

DEPLOY_DIR = "deploy"
# app -> the deployed tree it runs from (a second deployment runs the same release)
DEPLOYED = {"audiospective-web": "audiospective-web", "audiospective-web-2": "audiospective-web"}
# What the app loads through the tree's own node_modules: copied, where a link would make Node
# resolve the client from the shared build. The client package's files are copied, its
# directories (the runtime) linked.
_COPIED = (".prisma",)
_SHALLOW = ("@prisma/client",)
_SHARED = ("next-server.js", "host.js")  # what the app's server requires from beside its tree


def root(stack_dir: Path) -> Path:
    return stack_dir / DEPLOY_DIR


def tree(stack_dir: Path, app: str) -> Path:
    """The deployed tree `app` runs from."""
    return root(stack_dir) / DEPLOYED[app]


def install(stack_dir: Path) -> None:
    """Writes each deployed tree afresh from the machine's build."""
    build = node_build.built()
    shutil.rmtree(root(stack_dir), ignore_errors=True)
    root(stack_dir).mkdir(parents=True)
    for name in _SHARED:
        (root(stack_dir) / name).symlink_to(build / name)
    for name in sorted(set(DEPLOYED.values())):
        shutil.copytree(build / name, root(stack_dir) / name, symlinks=True,
                        ignore=shutil.ignore_patterns("cache"))
        _link_modules(build / "node_modules", root(stack_dir) / name / "node_modules")


def restore(stack_dir: Path, app: str, relative: str) -> None:
    """Puts one path of a deployed tree back as the build it was deployed from has it (a file, or a
    directory whole)."""
    build = (root(stack_dir) / _SHARED[0]).resolve().parent  # the build its links point into
    target = tree(stack_dir, app) / relative
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    # a tree's node_modules are the build's, one level above the app's directory there
    source = (build if relative.startswith("node_modules/") else build / DEPLOYED[app]) / relative
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _link_modules(source: Path, target: Path) -> None:
    """node_modules of a tree: a link to each package of the build's, but the copied ones."""
    target.mkdir()
    for entry in sorted(source.iterdir()):
        if entry.name in _COPIED:
            shutil.copytree(entry, target / entry.name, symlinks=True)
        elif any(shallow.startswith(f"{entry.name}/") for shallow in _SHALLOW):
            _link_modules_shallow(entry, target / entry.name)
        else:
            (target / entry.name).symlink_to(entry)


def _link_modules_shallow(scope: Path, target: Path) -> None:
    """A scope directory (@prisma): links to its packages, but the client package, whose files are
    copied and whose directories are linked."""
    target.mkdir()
    for entry in sorted(scope.iterdir()):
        if f"{scope.name}/{entry.name}" not in _SHALLOW:
            (target / entry.name).symlink_to(entry)
            continue
        (target / entry.name).mkdir()
        for item in sorted(entry.iterdir()):
            if item.is_dir():
                (target / entry.name / item.name).symlink_to(item)
            else:
                shutil.copy2(item, target / entry.name / item.name)


def command(stack_dir: Path, app: str) -> str:
    """The server script `app` runs, in its deployed tree."""
    return os.fspath(tree(stack_dir, app) / "server.js")
