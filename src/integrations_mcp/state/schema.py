"""The tables, as SQLAlchemy Core sees them. The migrations in `migrations/versions/` create them: a change here
needs a new revision there."""

from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        Float,
                        Index,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
)

__all__ = ["approvals", "journal", "metadata", "passkey_credentials", "passkey_enrolments", "passkey_spent_challenges",
           "secure_forms", "spent_forms", "write_locks"]

metadata = MetaData()

journal = Table(
    "journal", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),  # unix seconds
    Column("principal", String(200), nullable=False),
    Column("tool", String(100), nullable=False),
    Column("vendor", String(50), nullable=False),
    Column("integration", String(200)),  # the vendor's id of the record; None when a create failed
    Column("target", Text, nullable=False),  # as the person reads it
    Column("outcome", String(30), nullable=False),
    Column("changes", JSON, nullable=False),  # the planned FieldChanges (secrets only as set/replaced)
    Column("before", JSON),  # the record's image before (None for a create)
    Column("after", JSON),  # the image read back (None when not read)
    Column("secrets", JSON, nullable=False),  # names of secret fields set or replaced, never values
    Column("call_ids", JSON, nullable=False),  # the vendor's call ids, where it gave them
    Column("detail", Text, nullable=False),  # the refusal or error text, or the mismatches
    Column("reverts", Integer),  # the change this write reverted
    Column("approved_by", String(200)),  # who approved the change (a principal), when it needed approval
    Column("approved_how", String(50)),  # in the client, on the approval page, by the model's confirmation token
    # A page is one range of one index, in its order (state.journal, migration 0009).
    Index("ix_journal_at_id", "at", "id"),
    *(Index(f"ix_journal_{name}_at_id", name, "at", "id") for name in ("vendor", "integration", "principal")),
)

spent_forms = Table(
    "spent_forms", metadata,
    Column("vendor", String(50), primary_key=True),
    Column("form_id", String(200), primary_key=True),  # a hash of the vendor's form id (state.forms)
    Column("spent_at", Float, nullable=False),
)

approvals = Table(
    "approvals", metadata,
    Column("id", String(64), primary_key=True),  # a keyed hash of the approval id (approvals.store)
    Column("tool", String(100), nullable=False),
    Column("target", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("owner", Text, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("state", String(20), nullable=False),
    Column("on_page", Boolean, nullable=False),
    Column("kind", String(100)),  # the kinds of change, comma separated (approvals.kinds)
    Column("requested_by", String(200)),  # the principal whose call asked for it
    Column("decided_by", String(200)),  # who decided on the page, when they signed in (pages.signin)
    Column("decided_how", String(50)),  # e.g. "signed in (oidc)"
)

secure_forms = Table(
    "secure_forms", metadata,
    Column("id", String(64), primary_key=True),  # a keyed hash of the form's handle (secure_forms.persisted)
    Column("page", String(64), nullable=False, unique=True),  # a keyed hash of its page id
    Column("owner", Text, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("form", JSON, nullable=False),  # subject, fields, purpose, created_at, create_tool, details
    Column("sealed", LargeBinary),  # the person's values, AES-GCM (nonce + ciphertext); None once taken or expired
    Column("completed", Boolean, nullable=False),
    Column("used", Boolean, nullable=False),
    Column("filled", JSON, nullable=False),  # field ids that hold a value (never values)
)

write_locks = Table(  # leases serialising writes across processes sharing one SQLite file (state.locks)
    "write_locks", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the lock key
    Column("name", Text, nullable=False),  # the lock key, for whoever looks into the file
    Column("owner", String(100), nullable=False),  # pid and a random token of the holding write
    Column("expires_at", Float, nullable=False),  # renewed while the write runs; a crashed holder's lease runs out
)

# Passkeys for approvers (pages.signin.passkey_store): nothing here signs in or enrols anyone by being read.
passkey_credentials = Table(
    "passkey_credentials", metadata,
    Column("id", String(1400), primary_key=True),  # the credential id, base64url (not a secret; up to 1023 bytes)
    Column("public_key", LargeBinary, nullable=False),  # COSE; verifies assertions, proves nothing alone
    Column("sign_count", BigInteger, nullable=False),  # the authenticator's: up to 2**32 - 1
    Column("subject", String(200), nullable=False, index=True),  # the principal the person acts as
    Column("name", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("rp_id", String(255), nullable=False),  # the domain it was made for (the authenticator binds it)
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float),
)

passkey_enrolments = Table(
    "passkey_enrolments", metadata,
    Column("id", String(64), primary_key=True),  # a keyed hash of the link's one-time token
    Column("subject", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("used", Boolean, nullable=False),
)

passkey_spent_challenges = Table(
    "passkey_spent_challenges", metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the challenge
    Column("expires_at", Float, nullable=False, index=True),
)
