"""briefing_archives: the audit chain's head when the briefing was made (audit_seq, audit_mac)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("briefing_archives") as batch_op:
        batch_op.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("audit_mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("briefing_archives") as batch_op:
        batch_op.drop_column("audit_mac")
        batch_op.drop_column("audit_seq")
