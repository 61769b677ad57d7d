"""holiday_years: the years whose official holiday schedule is entered in full

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 05:20:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from tracker.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "holiday_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_holiday_years_year")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_holiday_years_updated_by_id_users")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_holiday_years")),
    )
    # A database seeded before this table held the complete 2026 schedule: that year counts as entered.
    conn = op.get_bind()
    days = conn.execute(sa.text("SELECT day FROM holidays")).scalars().all()
    years = sorted({(d if isinstance(d, date) else date.fromisoformat(str(d)[:10])).year for d in days})
    table = sa.table(
        "holiday_years",
        sa.column("year", sa.Integer()),
        sa.column("source", sa.Text()),
        sa.column("updated_at", UTCDateTime()),
    )
    if 2026 in years:
        op.bulk_insert(
            table,
            [
                {
                    "year": 2026,
                    "source": "国务院办公厅关于2026年部分节假日安排的通知(2025年11月4日)",
                    "updated_at": datetime.now(UTC),
                }
            ],
        )


def downgrade() -> None:
    op.drop_table("holiday_years")
