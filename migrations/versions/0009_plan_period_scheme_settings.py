"""plans.start_month/end_month (the plan's period); scheme_settings (how not-applicable items are scored)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch_op:
        batch_op.add_column(sa.Column("start_month", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("end_month", sa.String(length=7), nullable=True))
    # an existing plan runs over its calendar year until the administrator says otherwise
    op.execute(
        "UPDATE plans SET start_month = CAST(year AS VARCHAR(4)) || '-01', end_month = CAST(year AS VARCHAR(4)) || '-12'"
    )
    with op.batch_alter_table("plans") as batch_op:
        batch_op.alter_column("start_month", existing_type=sa.String(length=7), nullable=False)
        batch_op.alter_column("end_month", existing_type=sa.String(length=7), nullable=False)
        batch_op.create_check_constraint(op.f("ck_plans_plan_period"), "start_month <= end_month")
    op.create_table(
        "scheme_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("not_applicable", sa.String(length=16), server_default="rescale", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_scheme_settings_single_row")),
        sa.CheckConstraint(
            "not_applicable IN ('rescale', 'full', 'zero')", name=op.f("ck_scheme_settings_not_applicable")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheme_settings")),
    )
    op.execute("INSERT INTO scheme_settings (id, not_applicable, version) VALUES (1, 'rescale', 1)")


def downgrade() -> None:
    op.drop_table("scheme_settings")
    with op.batch_alter_table("plans") as batch_op:
        batch_op.drop_constraint(op.f("ck_plans_plan_period"), type_="check")
        batch_op.drop_column("end_month")
        batch_op.drop_column("start_month")
