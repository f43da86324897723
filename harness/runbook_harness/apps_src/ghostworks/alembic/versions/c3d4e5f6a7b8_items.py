"""items and their org index"""

revision = "c3d4e5f6a7b8"
down_revision = "a1b2c3d4e5f6"
