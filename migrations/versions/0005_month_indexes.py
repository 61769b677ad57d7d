"""indexes for reading some months: metric_values (indicator_id, month), progress_reports (task_id, period)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 19:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_metric_values_indicator_month", "metric_values", ["indicator_id", "month"], unique=False)
    op.create_index("ix_progress_reports_task_id_period", "progress_reports", ["task_id", "period"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_progress_reports_task_id_period", table_name="progress_reports")
    op.drop_index("ix_metric_values_indicator_month", table_name="metric_values")
