"""Indexes for the journal's pages: a page is newest first by (time, id), each filter column leading, so a page,
its capped count and a time filter are one range of one index in order, stopping after the rows they return
(before, PostgreSQL read every row of a filter and sorted them: 158 ms for one person's page at 100 k rows, and a
`days` filter matching little scanned the table). They replace the single-column indexes of 0001.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# new index -> (its columns, the 0001 index it replaces)
FILTERS = ("vendor", "integration", "principal")
INDEXES = {"ix_journal_at_id": (["at", "id"], "at"),
           **{f"ix_journal_{name}_at_id": ([name, "at", "id"], name) for name in FILTERS}}


def upgrade() -> None:
    for index, (columns, old) in INDEXES.items():
        op.create_index(index, "journal", columns)
        op.drop_index(f"ix_journal_{old}", "journal")


def downgrade() -> None:
    for index, (_, old) in INDEXES.items():
        op.create_index(f"ix_journal_{old}", "journal", [old])
        op.drop_index(index, "journal")
