"""Case numbers (instances.number, unique) and the case search: documents in case_search,
indexed per database (SQLite: an FTS5 table kept by triggers; PostgreSQL: a GIN index of the
terms as a tsvector); instances.updated_at indexed for the list's "recently changed".

Existing cases get their numbers here (prefix-year-id: the prefix Engine.upgrade passes from
config.yaml, else YH). Their search documents need the compiled processes (which fields the
start form searches by), which a migration does not have: Engine.upgrade writes them next.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from datetime import UTC, timedelta, timezone

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHINA = timezone(timedelta(hours=8))  # no daylight saving since 1991
FTS = "case_search_fts"
TRIGGERS = {
    "case_search_ai": f"""AFTER INSERT ON case_search BEGIN
        INSERT INTO {FTS}(rowid, document) VALUES (new.instance_id, new.document);
    END""",
    "case_search_ad": f"""AFTER DELETE ON case_search BEGIN
        INSERT INTO {FTS}({FTS}, rowid, document)
            VALUES ('delete', old.instance_id, old.document);
    END""",
    "case_search_au": f"""AFTER UPDATE ON case_search BEGIN
        INSERT INTO {FTS}({FTS}, rowid, document)
            VALUES ('delete', old.instance_id, old.document);
        INSERT INTO {FTS}(rowid, document) VALUES (new.instance_id, new.document);
    END""",
}


def _number_existing_cases(prefix: str) -> None:
    instances = sa.table(
        "instances",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("number", sa.String()),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.select(instances.c.id, instances.c.created_at)).all()
    numbered = []
    for instance_id, created_at in rows:
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        year = at.astimezone(CHINA).year
        numbered.append({"row_id": instance_id, "number": f"{prefix}-{year}-{instance_id:06d}"})
    if numbered:
        conn.execute(
            instances.update()
            .where(instances.c.id == sa.bindparam("row_id"))
            .values(number=sa.bindparam("number")),
            numbered,
        )


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_number"), ["number"], unique=True)
        batch_op.create_index(batch_op.f("ix_instances_updated_at"), ["updated_at"], unique=False)
    _number_existing_cases(context.config.attributes.get("case_number_prefix") or "YH")

    op.create_table(
        "case_search",
        sa.Column("instance_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["instance_id"], ["instances.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_case_search_terms ON case_search "
            "USING gin (array_to_tsvector(string_to_array(document, ' ')))"
        )
    else:
        # The terms are ours (engine/search_text.py): the ascii tokenizer splits on our
        # spaces and keeps every non-ASCII character as it is.
        op.execute(
            f"CREATE VIRTUAL TABLE {FTS} USING fts5(document, content='case_search', "
            "content_rowid='instance_id', tokenize='ascii')"
        )
        for name, body in TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_case_search_terms")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute(f"DROP TABLE {FTS}")
    op.drop_table("case_search")
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_updated_at"))
        batch_op.drop_index(batch_op.f("ix_instances_number"))
        batch_op.drop_column("number")
