"""PostgreSQL between tests: every table back to the rows a test starts from, by rewriting only what changed.

The suite used to empty all 44 tables with one `TRUNCATE … RESTART IDENTITY CASCADE` before each test and insert
the seeded rows again: about half a second of the server's time per test (a truncated table gets new files), more
than most tests themselves. Now rows are deleted (a few milliseconds for tables this small), identities restarted
with `setval`, and a table is rewritten only when it may differ from what the test should start with: after putting
a state in place, each table's mark is kept (its row count, the newest transaction that wrote one of its rows, and
its id sequence's last value); before the next test, the tables whose mark moved are rewritten, with every table that
refers to them (whose rows would otherwise point at deleted ones). Any insert, update or delete, committed or rolled
back, moves a mark: an insert or update writes a row version with a newer transaction id, a delete lowers the count,
an insert rolled back still took a sequence value. When the state before is not known (first use, the demo district
copied in, a backup restored), every table is rewritten.
"""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection

from tracker.db import make_engine
from tracker.models import Base


def _has_id_sequence(t: Table) -> bool:
    return "id" in t.c and t.c.id.autoincrement in (True, "auto") and t.c.id.type.python_type is int


class PostgresRows:
    """The rows of one process's test database, put back to a given state (`None`: every table empty)."""

    def __init__(self, url: str):
        self.url = url
        self.tables = list(Base.metadata.sorted_tables)  # referenced tables before those that refer to them
        self.state: object = None  # the rows in place when `marks` were taken
        self.marks: dict[str, tuple] | None = None

    def forget(self) -> None:
        """The database was changed outside `put`: the next `put` rewrites every table."""
        self.marks = None

    def put(self, rows: dict[str, list[dict]] | None) -> None:
        """Give every table the rows in `rows` (by table name; `None`: none) and restart its ids after them."""
        engine = make_engine(self.url)
        try:
            with engine.begin() as conn:
                changed = self._changed(conn, rows)
                self._rewrite(conn, changed, rows or {})
            with engine.connect() as conn:
                self.marks, self.state = self._marks(conn), rows
        except BaseException:
            self.marks = None
            raise
        finally:
            engine.dispose()

    def _changed(self, conn: Connection, rows) -> list[Table]:
        """The tables to rewrite: those whose mark moved, and those referring to them, in dependency order."""
        if self.marks is None or self.state is not rows:
            return self.tables
        now = self._marks(conn)
        names = {name for name, mark in now.items() if self.marks.get(name) != mark}
        grew = True
        while grew:
            grew = False
            for t in self.tables:
                if t.name not in names and any(fk.column.table.name in names for fk in t.foreign_keys):
                    names.add(t.name)
                    grew = True
        return [t for t in self.tables if t.name in names]

    def _rewrite(self, conn: Connection, tables: list[Table], rows: dict[str, list[dict]]) -> None:
        for t in reversed(tables):
            conn.execute(t.delete())
        for t in tables:
            if rows.get(t.name):
                conn.execute(t.insert(), rows[t.name])
            if _has_id_sequence(t):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {t.name}), 1), (SELECT count(*) > 0 FROM {t.name}))"
                    )
                )

    def _marks(self, conn: Connection) -> dict[str, tuple]:
        """Per table: rows, the newest writing transaction, and its id sequence's last value (NULL until used)."""
        parts = []
        for t in self.tables:
            seq = "NULL"
            if _has_id_sequence(t):
                seq = (
                    "(SELECT last_value FROM pg_sequences WHERE "
                    f"schemaname || '.' || sequencename = pg_get_serial_sequence('{t.name}', 'id'))"
                )
            parts.append(f"SELECT '{t.name}', count(*), max(xmin::text::bigint), {seq} FROM {t.name}")
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(" UNION ALL ".join(parts)))}
