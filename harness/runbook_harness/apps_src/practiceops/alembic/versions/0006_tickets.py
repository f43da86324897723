"""tickets (the reference stack's seed creates the schema; only the chain matters)"""

revision = "0006_tickets"
down_revision = None
