"""How the catalog names what it holds: a table by its schema, and the privileges of a table. Kept
apart from catalog.py, so that a check naming them does not load the catalog's types with it."""

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def qualify(name: str, default_schema: str = "public") -> str:
    """`table` -> `public.table`; an already qualified name is kept."""
    return name if "." in name else f"{default_schema}.{name}"
