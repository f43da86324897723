"""users, teams, memberships, tickets and notification preferences"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0006_tickets"
down_revision = None


def upgrade() -> None:
    op.create_table("users",
                    sa.Column("id", UUID, primary_key=True),
                    sa.Column("email", sa.Text),
                    sa.Column("display_name", sa.Text, nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                              server_default=sa.func.now()))
    op.create_table("teams",
                    sa.Column("id", UUID, primary_key=True),
                    sa.Column("name", sa.Text, nullable=False))
    # The app, not the schema, keeps memberships valid: no foreign keys, no CHECK on role.
    op.create_table("team_memberships",
                    sa.Column("team_id", UUID, primary_key=True),
                    sa.Column("user_id", UUID, primary_key=True),
                    sa.Column("role", sa.Text, nullable=False),
                    sa.Column("section", sa.Text))
    op.create_table("tickets",
                    sa.Column("id", UUID, primary_key=True),
                    sa.Column("team_id", UUID, sa.ForeignKey("teams.id"), nullable=False),
                    sa.Column("owner_id", UUID, sa.ForeignKey("users.id")),
                    sa.Column("status", sa.Text, nullable=False, server_default="OPEN"),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                              server_default=sa.func.now()))
    op.create_table("notification_preferences",
                    sa.Column("user_id", UUID, sa.ForeignKey("users.id"), primary_key=True),
                    sa.Column("team_id", UUID, sa.ForeignKey("teams.id"), primary_key=True),
                    sa.Column("email_enabled", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    for table in ("notification_preferences", "tickets", "team_memberships", "teams", "users"):
        op.drop_table(table)
