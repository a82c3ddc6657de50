"""The journal names who approved a change and how (in the client, on the approval page, by the model's
confirmation token).

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal") as table:
        table.add_column(sa.Column("approved_by", sa.String(200)))
        table.add_column(sa.Column("approved_how", sa.String(50)))


def downgrade() -> None:
    with op.batch_alter_table("journal") as table:
        table.drop_column("approved_how")
        table.drop_column("approved_by")
