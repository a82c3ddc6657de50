"""Passkeys for approvers (issue 18, item 4): the credentials people enrolled, the one-time enrolment links (only a
keyed hash of each link's token), and the challenges already answered (so an assertion counts once, on any
replica).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "passkey_credentials",
        sa.Column("id", sa.String(1400), primary_key=True),  # the credential id, base64url (not a secret)
        sa.Column("public_key", sa.LargeBinary, nullable=False),  # COSE; verifies assertions, proves nothing alone
        sa.Column("sign_count", sa.BigInteger, nullable=False),  # the authenticator's: up to 2**32 - 1
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("rp_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
    )
    op.create_table(
        "passkey_enrolments",
        sa.Column("id", sa.String(64), primary_key=True),  # a keyed hash of the link's one-time token
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used", sa.Boolean, nullable=False),
    )
    op.create_table(
        "passkey_spent_challenges",
        sa.Column("id", sa.String(64), primary_key=True),  # sha256 of the challenge
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_passkey_credentials_subject", "passkey_credentials", ["subject"])
    op.create_index("ix_passkey_enrolments_expires_at", "passkey_enrolments", ["expires_at"])
    op.create_index("ix_passkey_spent_challenges_expires_at", "passkey_spent_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_table("passkey_spent_challenges")
    op.drop_table("passkey_enrolments")
    op.drop_table("passkey_credentials")
