"""ticket indexes: by team and status, by owner"""

from alembic import op

revision = "0007_ticket_indexes"
down_revision = "0006_tickets"


def upgrade() -> None:
    op.create_index("tickets_team_id_status_idx", "tickets", ["team_id", "status"])
    op.create_index("tickets_owner_id_idx", "tickets", ["owner_id"])


def downgrade() -> None:
    op.drop_index("tickets_owner_id_idx")
    op.drop_index("tickets_team_id_status_idx")
