"""organizations and users (the reference stack's seed creates the schema; only the chain matters)"""

revision = "a1b2c3d4e5f6"
down_revision = None
