"""stats_totals: the 考核 figures that count by a date, per day and per month, per process,
department and grid (engine/stats_totals.py). The table starts empty; `Engine.upgrade` fills
it from `case_parts` when there are parts but no totals (it needs config.yaml's grid field).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FIGURES = (
    "reports",
    "received",
    "dispatched",
    "rectified",
    "due",
    "on_time",
    "returns",
    "reworks",
    "extensions",
    "wd_sum",
    "wd_n",
    "pending",
    "major_open",
    "level_none",
    "level_0",
    "level_1",
    "level_2",
    "level_3",
    "level_4",
)


def upgrade() -> None:
    op.create_table(
        "stats_totals",
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("grid", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
        sa.PrimaryKeyConstraint("span", "day", "process_id", "department", "grid"),
    )


def downgrade() -> None:
    op.drop_table("stats_totals")
