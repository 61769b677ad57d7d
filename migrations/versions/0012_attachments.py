"""attachments (佐证材料): files on reports, rectifications, decision feedback and publicity activities

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumb_sha256", sa.String(length=64), nullable=True),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "owner_kind IN ('report', 'rectification', 'feedback', 'activity')", name=op.f("ck_attachments_owner_kind")
        ),
        sa.CheckConstraint("kind IN ('jpeg', 'png', 'pdf', 'docx', 'xlsx')", name=op.f("ck_attachments_kind")),
        sa.CheckConstraint("size > 0", name=op.f("ck_attachments_size_positive")),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_attachments_sha256_length")),
        sa.CheckConstraint(
            "(kind IN ('jpeg', 'png')) = (width IS NOT NULL AND height IS NOT NULL AND thumb_sha256 IS NOT NULL)",
            name=op.f("ck_attachments_image_fields"),
        ),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("owner_kind", "owner_id", "sha256", name=op.f("uq_attachments_owner_kind_owner_id_sha256")),
    )
    op.create_index("ix_attachments_owner", "attachments", ["owner_kind", "owner_id"], unique=False)
    op.create_index(op.f("ix_attachments_sha256"), "attachments", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attachments_sha256"), table_name="attachments")
    op.drop_index("ix_attachments_owner", table_name="attachments")
    op.drop_table("attachments")
