"""audit_events.chain and audit_heads.chain hold "user:<username>": a user name may have 80
characters, so a chain needs 85; 40 refused a long name's password change on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("audit_events", "audit_heads")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "chain", existing_type=sa.String(length=40), type_=sa.String(length=100)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "chain", existing_type=sa.String(length=100), type_=sa.String(length=40)
            )
