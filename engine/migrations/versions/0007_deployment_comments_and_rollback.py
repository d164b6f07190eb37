"""A deployment says why (`comment`), and files deployed before may be deployed again (a roll
back is a new deployment of an earlier one's files): deployments.content_hash is no longer
unique, only indexed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# SQLite's unique constraint of revision 0001 has no name: give it one to drop it
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name() -> str:
    for found in sa.inspect(op.get_bind()).get_unique_constraints("deployments"):
        if found["column_names"] == ["content_hash"] and found["name"]:
            return str(found["name"])
    return "uq_deployments_content_hash"


def upgrade() -> None:
    name = _unique_name()
    with op.batch_alter_table("deployments", naming_convention=NAMING) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.drop_constraint(name, type_="unique")
        batch_op.create_index("ix_deployments_content_hash", ["content_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deployments", naming_convention=NAMING) as batch_op:
        batch_op.drop_index("ix_deployments_content_hash")
        batch_op.create_unique_constraint("uq_deployments_content_hash", ["content_hash"])
        batch_op.drop_column("comment")
