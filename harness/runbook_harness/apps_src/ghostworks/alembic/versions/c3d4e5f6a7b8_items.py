"""items and their org index"""

import sqlalchemy as sa
from alembic import op

revision = "c3d4e5f6a7b8"
down_revision = "a1b2c3d4e5f6"


def upgrade() -> None:
    op.create_table("items",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
                    sa.Column("title", sa.Text, nullable=False),
                    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                              server_default=sa.func.now()))
    op.create_index("items_org_id_idx", "items", ["org_id"])


def downgrade() -> None:
    op.drop_table("items")
