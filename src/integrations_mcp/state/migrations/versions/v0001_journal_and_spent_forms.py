"""The change journal and the spent vendor-hosted secure forms.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(100), nullable=False),
        sa.Column("vendor", sa.String(50), nullable=False),
        sa.Column("integration", sa.String(200)),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("secrets", sa.JSON, nullable=False),
        sa.Column("call_ids", sa.JSON, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("reverts", sa.Integer),
    )
    for column in ("at", "principal", "vendor", "integration"):
        op.create_index(f"ix_journal_{column}", "journal", [column])
    op.create_table(
        "spent_forms",
        sa.Column("vendor", sa.String(50), primary_key=True),
        sa.Column("form_id", sa.String(200), primary_key=True),
        sa.Column("spent_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("spent_forms")
    op.drop_table("journal")
