"""What of a database's catalog a run reads: sections, and the tables the per-table sections are
limited to. A part left unread raises NotRead when a check reaches for it, never reads as empty."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from runbook_checks.facts.names import qualify

# Read whole or not at all.
WHOLE_SECTIONS = ("roles", "functions", "schemas", "extensions", "settings", "default_acls",
                  "role_settings", "activity")
# Read for the scope's tables only, or for every table.
TABLE_SECTIONS = ("tables", "policies", "indexes", "foreign_keys", "table_stats")
SECTIONS = WHOLE_SECTIONS + TABLE_SECTIONS

T = TypeVar("T")


class NotRead(Exception):
    """A check reached for a part of the catalog this run did not read: an internal error of the
    check's declared scope, which fails the check rather than read the part as absent."""

    def __init__(self, what: str) -> None:
        super().__init__(f"the catalog was read without {what}: this check's scope does not name it, "
                         "so it cannot be judged (an internal error; run it with the full catalog)")


@dataclass(frozen=True)
class CatalogScope:
    """Sections to read; `tables` (qualified) and every table having one of `columns` limit the
    per-table sections, `tables` None meaning every table."""

    sections: frozenset[str] = frozenset()
    tables: frozenset[str] | None = frozenset()
    columns: frozenset[str] = frozenset()

    @classmethod
    def of(cls, sections: Iterable[str], tables: Iterable[str] = (), columns: Iterable[str] = ()
           ) -> CatalogScope:
        """A scope of `sections`, per-table ones limited to `tables` (public by default) and the
        tables having one of `columns`."""
        named = frozenset(sections)
        unknown = named - set(SECTIONS)
        if unknown:
            raise ValueError(f"no catalog section named {', '.join(sorted(unknown))}")
        return cls(named, frozenset(qualify(t) for t in tables), frozenset(columns))

    def __or__(self, other: CatalogScope) -> CatalogScope:
        """What either reads."""
        tables = None if self.tables is None or other.tables is None else self.tables | other.tables
        return CatalogScope(self.sections | other.sections, tables, self.columns | other.columns)


FULL = CatalogScope(frozenset(SECTIONS), None)


def unread(section: str) -> NoReturn:
    """Raises NotRead for a whole section."""
    raise NotRead(f"its {section}")


class Unread:
    """A section not read: any use of it raises NotRead."""

    def __init__(self, section: str) -> None:
        self._section = section

    def __getattr__(self, name: str) -> Any:
        unread(self._section)

    def __iter__(self) -> Iterator[Any]:
        unread(self._section)

    def __len__(self) -> int:
        unread(self._section)

    def __contains__(self, item: object) -> bool:
        unread(self._section)

    def __getitem__(self, key: Any) -> Any:
        unread(self._section)

    def __bool__(self) -> bool:
        unread(self._section)

    def __eq__(self, other: object) -> bool:  # `== {}` must not read as "not empty"
        unread(self._section)

    __hash__ = None  # type: ignore[assignment]


class TablesRead(Mapping[str, T]):
    """A per-table section read for some tables: a table read answers (present or absent), any
    other table, or a listing of them all, raises NotRead."""

    def __init__(self, section: str, found: dict[str, T], read: frozenset[str]) -> None:
        self._section, self._found, self._read = section, found, read

    def __getitem__(self, table: str) -> T:
        if table not in self._read:
            raise NotRead(f"the {self._section} of table {table}")
        return self._found[table]

    def __iter__(self) -> Iterator[str]:
        raise NotRead(f"the {self._section} of every table (only {len(self._read)} named ones were read)")

    def __len__(self) -> int:
        raise NotRead(f"the {self._section} of every table (only {len(self._read)} named ones were read)")


class RowsRead(Sequence[T]):
    """Rows of a per-table section read for some tables: listing them all raises NotRead (the
    catalog's by-table lookups answer for the tables read)."""

    def __init__(self, section: str, rows: tuple[T, ...], read: frozenset[str]) -> None:
        self._section, self._rows, self._read = section, rows, read

    def _partial(self) -> NoReturn:
        raise NotRead(f"the {self._section} of every table (only {len(self._read)} named ones were read)")

    def __getitem__(self, index: Any) -> Any:
        self._partial()

    def __iter__(self) -> Iterator[T]:
        self._partial()

    def __len__(self) -> int:
        self._partial()

    def __contains__(self, item: object) -> bool:
        self._partial()

    def __eq__(self, other: object) -> bool:
        self._partial()

    __hash__ = None  # type: ignore[assignment]
