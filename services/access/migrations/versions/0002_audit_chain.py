"""The audit log becomes a hash chain: each event stores the hash of the one before and its own.

Events written before this revision keep no hashes: the chain starts with the first event written after it
(`wenyuan audit verify` counts the earlier ones apart). `audit_chain` is the head of the chain, one row:
how many events it holds, the last one's id and hash. Writers lock that row to append (services/access/audit.py),
so concurrent gateway workers never fork the chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # the prev_hash of the chain's first event (services/access/audit.GENESIS)


def upgrade() -> None:
    # Plain ADD COLUMN on either database (not a batch copy of the table, which would drop its append-only
    # triggers on SQLite); the columns stay nullable for the events written before.
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("audit_events", sa.Column("hash", sa.String(64), nullable=True))
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=True),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(chain, [{"id": 1, "length": 0, "head_id": None, "hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain")
    op.drop_column("audit_events", "hash")
    op.drop_column("audit_events", "prev_hash")
