"""What the engine keeps on each case for finding it: its number and its search document.

Both are written by the step that changes them, in its transaction (`CaseIndex.write`,
called from `Runtime._write_step`): the number when the case starts, the document when one
of the fields its start form names in `x-search` changes. The document is the case's
number and those fields' text as search terms (engine/search_text.py) in `case_search`;
the index over it is per database (revision 0003):

- SQLite: an FTS5 table `case_search_fts` with the `ascii` tokenizer (it splits on our
  spaces and keeps every non-ASCII character: the terms are ours, not its), an external
  content table over `case_search`, kept in step by triggers;
- PostgreSQL: a GIN index on `array_to_tsvector(string_to_array(document, ' '))`: the terms
  as lexemes exactly as we made them, no parser or dictionary between (the 'simple' parser
  would split them again by its own idea of a word, which depends on the server's locale).

A query's terms must all be in a document: FTS5 `"t1" "t2"`, PostgreSQL `'t1' & 't2'`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Table, cast, column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, defer

from . import case_numbers
from .definitions import CompiledProcess
from .deployments import CompiledById
from .models import CaseSearch, Instance
from .search_text import document

FTS_TABLE = "case_search_fts"  # SQLite only; with the shadow tables FTS5 makes for it
TERMS_INDEX = "ix_case_search_terms"  # PostgreSQL only
# The expression the PostgreSQL index is built on; a query must repeat it word for word.
PG_TERMS = "array_to_tsvector(string_to_array(case_search.document, ' '))"


def not_a_model(name: str | None, type_: str) -> bool:
    """The search index's own tables and index, which no model describes (for Alembic's
    comparison of models and database)."""
    if name is None:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return type_ == "index" and name == TERMS_INDEX


def _text_of(value: Any) -> list[str]:
    """The text in a field's value: strings and numbers, inside lists and objects too."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list):
        return [t for item in value for t in _text_of(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _text_of(item)]
    return []


def case_document(number: str, data: dict[str, Any], fields: Sequence[str]) -> str:
    return document([number, *(t for name in fields for t in _text_of(data.get(name)))])


def _upsert(session: Session, instance_id: int, doc: str) -> None:
    table = CaseSearch.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(instance_id=instance_id, document=doc)
    stmt = stmt.on_conflict_do_update(index_elements=["instance_id"], set_={"document": doc})
    session.connection().execute(stmt)


@dataclass(frozen=True)
class CaseIndex:
    """The number and the search document of each case, with the number prefix of config."""

    number_prefix: str

    def __post_init__(self) -> None:
        if not case_numbers.PREFIX_PATTERN.fullmatch(self.number_prefix):
            raise ValueError(
                f"cases.number_prefix {self.number_prefix!r}: 1 to 10 capital letters A-Z"
            )

    def write(
        self,
        session: Session,
        instance: Instance,
        compiled: CompiledProcess,
        old_data: dict[str, Any],
    ) -> None:
        """In a step: give a new case its number (before the row's UPDATE is flushed, so it
        goes in that statement) and write the document if a searched field changed."""
        starting = instance.number is None
        if starting:
            instance.number = case_numbers.number(
                self.number_prefix, instance.id, instance.created_at
            )
        fields = compiled.search_fields
        data = instance.data or {}
        if starting or any(old_data.get(f) != data.get(f) for f in fields):
            assert instance.number is not None
            _upsert(session, instance.id, case_document(instance.number, data, fields))

    def index_missing(
        self, session: Session, compiled_by_id: CompiledById, batch: int = 500
    ) -> int:
        """Number and index up to `batch` cases that have no search document yet (cases of
        a database migrated from before revision 0003); how many were done."""
        rows = session.scalars(
            select(Instance)
            .options(defer(Instance.state))
            .outerjoin(CaseSearch, CaseSearch.instance_id == Instance.id)
            .where(CaseSearch.instance_id.is_(None))
            .order_by(Instance.id)
            .limit(batch)
        ).all()
        for case in rows:
            if case.number is None:
                case.number = case_numbers.number(self.number_prefix, case.id, case.created_at)
            fields = compiled_by_id(session, case.process_version_id).search_fields
            _upsert(session, case.id, case_document(case.number, case.data or {}, fields))
        session.flush()
        return len(rows)

    def ref(self, typed: str) -> case_numbers.CaseRef | None:
        return case_numbers.parse(typed, self.number_prefix)


def ref_condition(ref: case_numbers.CaseRef) -> Any:
    """The condition on `Instance` for the case a number or id names."""
    if ref.instance_id is not None:
        return Instance.id == ref.instance_id
    return Instance.number == ref.number


def matching(session: Session, terms: Sequence[str]) -> Any:
    """The condition on `Instance` that its search document has every term (indexed)."""
    if session.get_bind().dialect.name == "postgresql":
        query = " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
        found = select(CaseSearch.instance_id).where(
            text(f"{PG_TERMS} @@ CAST(:terms AS tsquery)").bindparams(terms=query)
        )
        return Instance.id.in_(found)
    query = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    rowids = (
        select(cast(column("rowid"), Integer))
        .select_from(text(FTS_TABLE))
        .where(text(f"{FTS_TABLE} MATCH :terms").bindparams(terms=query))
    )
    return Instance.id.in_(rowids)
