"""grid_shapes: each grid's outline for the map (a GeoJSON Polygon or MultiPolygon, checked by
engine/grid_shapes.py), uploaded by an administrator or generated for the demo grids. A table
of its own, so that reading the grid tree never loads outlines.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grid_shapes",
        sa.Column("grid_code", sa.String(length=64), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["grid_code"], ["grids.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("grid_code"),
    )


def downgrade() -> None:
    op.drop_table("grid_shapes")
