"""open_tasks.queue (the queue tab a task is listed under); deployment_files.kind wide enough
for "translations"

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("open_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.create_index(batch_op.f("ix_open_tasks_queue"), ["queue"], unique=False)
    with op.batch_alter_table("deployment_files", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=8), type_=sa.String(length=16))
    # Tasks opened before this revision are listed under their title, as new ones without a
    # `queue` property are.
    op.execute("UPDATE open_tasks SET queue = COALESCE(title, task_name)")


def downgrade() -> None:
    # Revision 0001 knows no translations: they are display texts, not process logic.
    op.execute("DELETE FROM deployment_files WHERE kind = 'translations'")
    with op.batch_alter_table("deployment_files", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=16), type_=sa.String(length=8))
    with op.batch_alter_table("open_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_tasks_queue"))
        batch_op.drop_column("queue")
