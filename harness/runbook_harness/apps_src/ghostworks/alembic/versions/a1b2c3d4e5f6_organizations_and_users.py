"""organizations and users"""

import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = None


def upgrade() -> None:
    op.create_table("organizations",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.Text, nullable=False))
    op.create_table("users",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
                    sa.Column("email", sa.Text, nullable=False, unique=True),
                    sa.Column("password_hash", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("organizations")
