"""Cases by process and report time (`ix_instances_process_created`): the 考核 figures count a
period's reports per grid from this index alone, without reading the case rows (whose
workflow state SQLite keeps in overflow pages before the columns after it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_instances_process_created", "instances", ["process_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_instances_process_created", table_name="instances")
