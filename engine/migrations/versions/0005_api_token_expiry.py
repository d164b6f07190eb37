"""api_tokens.expires_at and label: API tokens expire (config security.api_token_days for new
ones). Tokens made before this revision never expired; they now expire 90 days after the
upgrade, so that programs using them keep working meanwhile and get a new one in time.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

GRACE = timedelta(days=90)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("label", sa.String(length=80), nullable=True))
    until = datetime.now(UTC) + GRACE
    if op.get_bind().dialect.name == "sqlite":
        until = until.replace(tzinfo=None)  # UTC without offset, as engine.models stores it
    tokens = sa.table("api_tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    op.execute(tokens.update().values(expires_at=until))
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.alter_column(
            "expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("label")
        batch_op.drop_column("expires_at")
