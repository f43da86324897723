"""ticket indexes"""

revision = "0007_ticket_indexes"
down_revision = "0006_tickets"
