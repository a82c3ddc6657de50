"""No usable capability in the state database: approval ids, secure form handles and page ids stored only as keyed
hashes, page anti-forgery tokens not stored at all (derived from the page id), spent vendor form ids hashed.

Approvals and the server's own forms in flight when upgrading are dropped (their ids cannot be hashed here: the key
is the running server's); they last minutes, and the person is asked again. Spent form ids are hashed in place, so
a form used before the upgrade stays used.

Revision ID: 0005
Revises: 0004
"""

import hashlib
import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def spent_form_key(vendor: str, form_id: str) -> str:
    """The same as `state.forms.spent_form_key` (a migration never imports the code it migrates)."""
    return hashlib.sha256(f"integrations-mcp/spent-form:{vendor}:{form_id}".encode()).hexdigest()


def _drop_csrf_columns() -> None:
    """ALTER TABLE ... DROP COLUMN where the database has it (PostgreSQL; SQLite 3.35+): a copy of each table (batch
    mode) would make every fresh database's first use slower."""
    bind = op.get_bind()
    native = bind.dialect.name != "sqlite" or sqlite3.sqlite_version_info >= (3, 35)
    for table in ("approvals", "secure_forms"):
        if native:
            op.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN csrf_token"))
        else:
            with op.batch_alter_table(table) as batch:
                batch.drop_column("csrf_token")


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM approvals"))
    op.execute(sa.text("DELETE FROM secure_forms"))
    _drop_csrf_columns()
    # Empty now; the default only satisfies SQLite's ADD COLUMN rule for NOT NULL (every row written has a page).
    op.add_column("secure_forms", sa.Column("page", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_secure_forms_page", "secure_forms", ["page"], unique=True)
    conn = op.get_bind()
    for vendor, form_id in conn.execute(sa.text("SELECT vendor, form_id FROM spent_forms")).all():
        conn.execute(sa.text("UPDATE spent_forms SET form_id = :hashed WHERE vendor = :vendor AND form_id = :form_id"),
                     {"hashed": spent_form_key(vendor, form_id), "vendor": vendor, "form_id": form_id})


def downgrade() -> None:
    """Spent form ids stay hashed (they cannot be reversed): an older server would not know them as spent."""
    op.drop_index("ix_secure_forms_page", "secure_forms")
    op.execute(sa.text("DELETE FROM secure_forms"))
    with op.batch_alter_table("secure_forms") as batch:
        batch.drop_column("page")
        batch.add_column(sa.Column("csrf_token", sa.String(64), nullable=False))
    op.execute(sa.text("DELETE FROM approvals"))
    with op.batch_alter_table("approvals") as batch:
        batch.add_column(sa.Column("csrf_token", sa.String(64), nullable=False))
