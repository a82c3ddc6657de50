"""The server's own secure forms (CxEngage's typed secrets), shared by replicas; values sealed with AES-GCM.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secure_forms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("form", sa.JSON, nullable=False),
        sa.Column("sealed", sa.LargeBinary),
        sa.Column("completed", sa.Boolean, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
        sa.Column("filled", sa.JSON, nullable=False),
    )
    op.create_index("ix_secure_forms_expires_at", "secure_forms", ["expires_at"])


def downgrade() -> None:
    op.drop_table("secure_forms")
