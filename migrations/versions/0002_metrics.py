"""两降两升 figures: indicators and their monthly values

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 16:01:44.565987
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db
import tracker.metrics.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit_label", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("decimals", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("scope", sa.String(length=16), server_default="township", nullable=False),
        sa.Column("aggregate", sa.String(length=8), server_default="sum", nullable=False),
        sa.Column("owner_unit_id", sa.Integer(), nullable=True),
        sa.Column("small_base", sa.Integer(), server_default="10", nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("aggregate IN ('sum', 'mean')", name=op.f("ck_indicators_aggregate")),
        sa.CheckConstraint("direction IN ('down', 'up')", name=op.f("ck_indicators_direction")),
        sa.CheckConstraint(
            "scope = 'township' OR owner_unit_id IS NOT NULL", name=op.f("ck_indicators_district_owner")
        ),
        sa.CheckConstraint("scope IN ('township', 'district')", name=op.f("ck_indicators_scope")),
        sa.CheckConstraint("decimals BETWEEN 0 AND 4", name=op.f("ck_indicators_decimals")),
        sa.CheckConstraint("small_base >= 0", name=op.f("ck_indicators_small_base")),
        sa.ForeignKeyConstraint(["owner_unit_id"], ["units.id"], name=op.f("fk_indicators_owner_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicators")),
        sa.UniqueConstraint("code", name=op.f("uq_indicators_code")),
        sa.UniqueConstraint("name", name=op.f("uq_indicators_name")),
    )
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicators_owner_unit_id"), ["owner_unit_id"], unique=False)

    op.create_table(
        "metric_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("amount", tracker.metrics.models.ExactDecimal(), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="entry", nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "length(month) = 7 AND substr(month, 5, 1) = '-' AND substr(month, 6, 2) BETWEEN '01' AND '12'",
            name=op.f("ck_metric_values_month"),
        ),
        sa.CheckConstraint("source IN ('entry', 'import', 'correction')", name=op.f("ck_metric_values_source")),
        sa.CheckConstraint("(count IS NULL) <> (amount IS NULL)", name=op.f("ck_metric_values_one_value")),
        sa.CheckConstraint("CAST(amount AS NUMERIC) >= 0", name=op.f("ck_metric_values_amount_not_negative")),
        sa.CheckConstraint("count >= 0", name=op.f("ck_metric_values_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name=op.f("fk_metric_values_indicator_id_indicators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_metric_values_unit_id_units")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_metric_values_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_values")),
        sa.UniqueConstraint(
            "indicator_id", "unit_id", "month", name=op.f("uq_metric_values_indicator_id_unit_id_month")
        ),
    )
    with op.batch_alter_table("metric_values", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_values_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_metric_values_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_metric_values_district_month",
            ["indicator_id", "month"],
            unique=True,
            sqlite_where=sa.text("unit_id IS NULL"),
            postgresql_where=sa.text("unit_id IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_values", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_metric_values_district_month",
            sqlite_where=sa.text("unit_id IS NULL"),
            postgresql_where=sa.text("unit_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_metric_values_unit_id"))
        batch_op.drop_index(batch_op.f("ix_metric_values_month"))

    op.drop_table("metric_values")
    with op.batch_alter_table("indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicators_owner_unit_id"))

    op.drop_table("indicators")
