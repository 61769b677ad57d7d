"""document_numbering (the 发文字号's prefix and next sequence number), document_numbers (numbers taken)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_numbering",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=40), server_default="反诈联办", nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("next_seq", sa.Integer(), server_default="1", nullable=False),
        sa.Column("copy_to", sa.String(length=300), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_document_numbering_single_row")),
        sa.CheckConstraint("next_seq >= 1", name=op.f("ck_document_numbering_next_seq_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_numbering")),
    )
    op.create_table(
        "document_numbers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=80), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_document_numbers_seq_positive")),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_document_numbers_meeting_id_meetings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_numbers")),
        sa.UniqueConstraint("meeting_id", name=op.f("uq_document_numbers_meeting_id")),
        sa.UniqueConstraint("year", "seq", name=op.f("uq_document_numbers_year_seq")),
    )


def downgrade() -> None:
    op.drop_table("document_numbers")
    op.drop_table("document_numbering")
