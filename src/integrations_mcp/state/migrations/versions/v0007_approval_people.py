"""Approvals name the kind of change, who asked for it and, once decided on the page by a person who signed in,
who decided and how (the journal's approved_by / approved_how come from there).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approvals") as table:
        table.add_column(sa.Column("kind", sa.String(100)))
        table.add_column(sa.Column("requested_by", sa.String(200)))
        table.add_column(sa.Column("decided_by", sa.String(200)))
        table.add_column(sa.Column("decided_how", sa.String(50)))


def downgrade() -> None:
    with op.batch_alter_table("approvals") as table:
        for column in ("decided_how", "decided_by", "requested_by", "kind"):
            table.drop_column(column)
