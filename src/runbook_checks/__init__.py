"""runbook-checks: runbook symptoms as read-only pytest checks, run per environment as a deploy gate.

PYTEST_DONT_REWRITE: pytest marks every package of a distribution with a pytest11 entry point for
assertion rewriting, so a wheel install would have each module parsed and compiled again whenever
pytest's own cache is cold (a fresh CI machine). The gate's checks raise CheckFailed and use no
`assert`: this package takes itself out of that mark before its modules load.
"""

import sys


def _not_rewritten_by_pytest() -> None:
    """This package and its modules out of pytest's rewrite marks (the package, by its entry point;
    a module, named by `-p`), where pytest has marked them."""
    hook_type = getattr(sys.modules.get("_pytest.assertion.rewrite"), "AssertionRewritingHook", None)
    if not isinstance(hook_type, type):
        return  # pytest is not running
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(finder, hook_type) and isinstance(marked, set):
            ours = {name for name in marked if name == __name__ or name.startswith(f"{__name__}.")}
            marked -= ours
            getattr(finder, "_marked_for_rewrite_cache", {}).clear()


_not_rewritten_by_pytest()

from runbook_checks.errors import CheckFailed  # noqa: E402  (after the marks are mended)

__all__ = ["CheckFailed"]
