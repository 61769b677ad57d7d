"""metric_values: one unique index (indicator_id, month, unit_id) for every read, three other indexes dropped

The unique constraint in the order (indicator_id, month, unit_id) answers what (indicator_id, month) answered (some
indicators in some months) and each indicator's latest month (what the index by month alone was for); nothing reads
by unit alone and units are never deleted. Each index dropped is one less to keep up on every figure written.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_values", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_values_indicator_month")
        batch_op.drop_index(batch_op.f("ix_metric_values_unit_id"))
        batch_op.drop_index(batch_op.f("ix_metric_values_month"))
        batch_op.drop_constraint(batch_op.f("uq_metric_values_indicator_id_unit_id_month"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_metric_values_indicator_id_month_unit_id"), ["indicator_id", "month", "unit_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_values", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_metric_values_indicator_id_month_unit_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_metric_values_indicator_id_unit_id_month"), ["indicator_id", "unit_id", "month"]
        )
        batch_op.create_index(batch_op.f("ix_metric_values_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_metric_values_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_metric_values_indicator_month", ["indicator_id", "month"], unique=False)
