"""stats_totals: the 考核 figures that count by a date, per day and per month, per process,
department and grid (engine/stats_totals.py); part_escalations: when each part reached each
supervision level (escalations by level; none are known for steps before this revision).
The totals start empty; `Engine.upgrade` fills them from `case_parts` when there are parts
but no totals (it needs config.yaml's grid field).

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
    "escalated_0",
    "escalated_1",
    "escalated_2",
    "escalated_3",
    "escalated_4",
)


def upgrade() -> None:
    op.create_table(
        "part_escalations",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("process_id", sa.String(length=255), nullable=False),
        sa.Column("grid", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id", "department", "level"),
    )
    op.create_index("ix_part_escalations_at", "part_escalations", ["at"])
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
    op.drop_index("ix_part_escalations_at", table_name="part_escalations")
    op.drop_table("part_escalations")
