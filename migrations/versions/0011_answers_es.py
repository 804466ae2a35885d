"""answers in other languages: a translations column, searched in Spanish too

The answers' search index is rebuilt to hold each answer's Spanish title, summary,
keywords and body beside the English ones: on SQLite a contentless FTS5 table kept in
step by triggers (the Spanish read from the JSON column), on PostgreSQL the generated
tsvector column, the Spanish parts stemmed with the ``spanish`` configuration.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, summary, keywords, body, title_es, summary_es, body_es"
OLD_FTS_COLUMNS = "title, summary, keywords, body"


def _es(row: str, field: str) -> str:
    return f"coalesce(json_extract({row}.translations, '$.es.{field}'), '')"


def _fts_values(row: str) -> str:
    return ", ".join(
        [
            f"{row}.title", f"{row}.summary", f"{row}.keywords", f"{row}.body",
            _es(row, "title"),
            f"{_es(row, 'summary')} || ' ' || {_es(row, 'keywords')}",
            _es(row, "body"),
        ]
    )


def _pg_es(field: str) -> str:
    return f"coalesce(translations -> 'es' ->> '{field}', '')"


PG_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(keywords, '') || ' ' || coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'C') || "
    f"setweight(to_tsvector('spanish', {_pg_es('title')}), 'A') || "
    f"setweight(to_tsvector('spanish', {_pg_es('keywords')} || ' ' || {_pg_es('summary')}), 'B') || "
    f"setweight(to_tsvector('spanish', {_pg_es('body')}), 'C')"
)
OLD_PG_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(keywords, '') || ' ' || coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'C')"
)
SQLITE_TRIGGERS = ("answers_fts_insert", "answers_fts_delete", "answers_fts_update")


def _drop_search(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_answers_search")
        op.execute("ALTER TABLE answers DROP COLUMN IF EXISTS search_vector")
    elif dialect == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS answers_fts")


def _create_pg_search(vector: str) -> None:
    op.execute(
        f"ALTER TABLE answers ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({vector}) STORED"
    )
    op.execute("CREATE INDEX ix_answers_search ON answers USING gin (search_vector)")


def _create_sqlite_search() -> None:
    """A contentless FTS5 table: it indexes values the answers table has no column for."""
    op.execute(
        f"CREATE VIRTUAL TABLE answers_fts USING fts5({FTS_COLUMNS}, content='', "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER answers_fts_insert AFTER INSERT ON answers BEGIN "
        f"INSERT INTO answers_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, {_fts_values('new')}); END"
    )
    op.execute(
        "CREATE TRIGGER answers_fts_delete AFTER DELETE ON answers BEGIN "
        f"INSERT INTO answers_fts(answers_fts, rowid, {FTS_COLUMNS}) "
        f"VALUES ('delete', old.id, {_fts_values('old')}); END"
    )
    op.execute(
        "CREATE TRIGGER answers_fts_update AFTER UPDATE ON answers BEGIN "
        f"INSERT INTO answers_fts(answers_fts, rowid, {FTS_COLUMNS}) "
        f"VALUES ('delete', old.id, {_fts_values('old')}); "
        f"INSERT INTO answers_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, {_fts_values('new')}); END"
    )
    op.execute(
        f"INSERT INTO answers_fts(rowid, {FTS_COLUMNS}) "
        f"SELECT answers.id, {_fts_values('answers')} FROM answers"
    )


def _create_old_sqlite_search() -> None:
    op.execute(
        f"CREATE VIRTUAL TABLE answers_fts USING fts5({OLD_FTS_COLUMNS}, content='answers', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    new = "new.title, new.summary, new.keywords, new.body"
    old = "old.title, old.summary, old.keywords, old.body"
    op.execute(
        "CREATE TRIGGER answers_fts_insert AFTER INSERT ON answers BEGIN "
        f"INSERT INTO answers_fts(rowid, {OLD_FTS_COLUMNS}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER answers_fts_delete AFTER DELETE ON answers BEGIN "
        f"INSERT INTO answers_fts(answers_fts, rowid, {OLD_FTS_COLUMNS}) "
        f"VALUES ('delete', old.id, {old}); END"
    )
    op.execute(
        "CREATE TRIGGER answers_fts_update AFTER UPDATE ON answers BEGIN "
        f"INSERT INTO answers_fts(answers_fts, rowid, {OLD_FTS_COLUMNS}) "
        f"VALUES ('delete', old.id, {old}); "
        f"INSERT INTO answers_fts(rowid, {OLD_FTS_COLUMNS}) VALUES (new.id, {new}); END"
    )
    op.execute("INSERT INTO answers_fts(answers_fts) VALUES ('rebuild')")


def upgrade():
    dialect = op.get_bind().dialect.name
    _drop_search(dialect)
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=True))
    if dialect == "postgresql":
        _create_pg_search(PG_VECTOR)
    elif dialect == "sqlite":
        _create_sqlite_search()


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_search(dialect)
    # A plain DROP COLUMN (SQLite 3.35+): no table rebuild, so no cascade through the answers.
    op.drop_column('answers', 'translations')
    if dialect == "postgresql":
        _create_pg_search(OLD_PG_VECTOR)
    elif dialect == "sqlite":
        _create_old_sqlite_search()
