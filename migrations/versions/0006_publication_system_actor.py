"""assessment_publications.actor_id may be empty: the system actor publishes and re-opens from the command line

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_publications", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # rows of the system actor have no user to keep; they cannot survive the NOT NULL
    op.execute("DELETE FROM assessment_publications WHERE actor_id IS NULL")
    with op.batch_alter_table("assessment_publications", schema=None) as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
