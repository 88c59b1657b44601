"""The raw database side: the same queries and rows as the server, without the server.

PostgreSQL through psycopg (binary COPY for ingest, `COPY (…) TO STDOUT WITH CSV` for export);
SQLite through Python's sqlite3 module (a batched INSERT loop, one transaction per batch; the
export reference is Python's csv writer over a cursor, since the sqlite3 CLI is not guaranteed).
Statements are written with `%s` placeholders; the SQLite side rewrites them to `?`.
"""

import csv
import datetime as dt
import io
import os
import re
import sqlite3
import time

from .events import RELATED_COLUMNS, ROW_COLUMNS, ROW_PG_TYPES


def sqlite_timestamp(t):
    """A timestamp as diesel stores it in SQLite (chrono's `%F %T%.f`: 0, 3, 6 or 9 digits)."""
    text = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond == 0:
        return text
    if t.microsecond % 1000 == 0:
        return f"{text}.{t.microsecond // 1000:03d}"
    return f"{text}.{t.microsecond:06d}"


class RawDb:
    postgres = False

    def fetchall(self, sql, args=()):
        raise NotImplementedError

    def scalar(self, sql, args=()):
        rows = self.fetchall(sql, args)
        return rows[0][0] if rows else None

    def timed(self, sql, args=()):
        """Runs a query and reads every row: `(seconds, rows)`."""
        started = time.perf_counter()
        rows = self.fetchall(sql, args)
        return time.perf_counter() - started, rows

    def tenant(self, slug):
        row = self.fetchall("SELECT id, head_seq, chain_base_seq FROM tenants WHERE slug = %s", [slug])
        return row[0] if row else None

    def user_exists(self, email):
        return bool(self.fetchall("SELECT 1 FROM users WHERE email = %s", [email]))


class RawPostgres(RawDb):
    postgres = True

    def __init__(self, url):
        import psycopg

        self.psycopg = psycopg
        self.conn = psycopg.connect(url, autocommit=True)

    def close(self):
        self.conn.close()

    def fetchall(self, sql, args=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def execute(self, sql, args=()):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)

    def versions(self):
        return {
            "server": self.scalar("SHOW server_version"),
            "settings": {name: self.scalar(f"SHOW {name}") for name in (
                "shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit",
                "synchronous_commit", "random_page_cost")},
        }

    def size_bytes(self):
        return self.scalar("SELECT pg_database_size(current_database())")

    def indexes_used(self, sql, args):
        """The indexes (or sequential scans) in the plan PostgreSQL chooses for `sql`."""
        plan = self.scalar("EXPLAIN (FORMAT JSON) " + sql, args)
        found = []

        def walk(node):
            name = node.get("Index Name") or ("seq scan" if node.get("Node Type") == "Seq Scan" else None)
            if name and name not in found:
                found.append(name)
            for child in node.get("Plans", []):
                walk(child)

        walk(plan[0]["Plan"])
        # A partitioned `events` has one index per partition (events_2026_11_…): name them once.
        grouped = {}
        for name in found:
            m = re.match(r"events_(?:\d{4}_\d{2}|default)_(.+)$", name)
            key = f"events_*_{m.group(1)}" if m else name
            grouped[key] = grouped.get(key, 0) + 1
        return ", ".join(k if n == 1 else f"{k} ({n} partitions)" for k, n in grouped.items()) or "—"

    # -- ingest ------------------------------------------------------------------------------
    def create_raw_tables(self):
        self.execute("DROP TABLE IF EXISTS bench_raw_related")
        self.execute("DROP TABLE IF EXISTS bench_raw")
        self.execute("CREATE TABLE bench_raw (LIKE events INCLUDING ALL)")
        self.execute("CREATE TABLE bench_raw_related (LIKE event_related INCLUDING ALL)")
        # LIKE copies no foreign key: add event_related's (if it has one), which every row checks.
        if self.scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = 'event_related'::regclass "
                       "AND confrelid = 'events'::regclass AND contype = 'f'"):
            self.execute("ALTER TABLE bench_raw_related ADD FOREIGN KEY (tenant_id, event_id) "
                         "REFERENCES bench_raw (tenant_id, id)")

    def next_raw_id(self):
        return (self.scalar("SELECT max(id) FROM bench_raw") or 0) + 1

    def encode_batch(self, rows, related):
        """Binary COPY data for a batch, made before the clock starts (only the COPY is timed)."""
        from psycopg.copy import Copy, FileWriter

        encoded = []
        for table_rows, types in ((rows, ROW_PG_TYPES), (related, ["int8", "text", "text", "int8"])):
            buf = io.BytesIO()
            with self.conn.cursor() as cur:
                with Copy(cur, binary=True, writer=FileWriter(buf)) as copy:
                    copy.set_types(types)
                    for row in table_rows:
                        copy.write_row(row)
            encoded.append(buf.getvalue())
        return encoded

    def insert_batch(self, encoded):
        """One batch in one transaction: binary COPY of the events, then of their related rows."""
        events_data, related_data = encoded
        started = time.perf_counter()
        with self.conn.transaction():
            with self.conn.cursor() as cur:
                with cur.copy(f"COPY bench_raw ({', '.join(ROW_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(events_data)
                if related_data:
                    with cur.copy(f"COPY bench_raw_related ({', '.join(RELATED_COLUMNS)}) "
                                  "FROM STDIN (FORMAT BINARY)") as copy:
                        copy.write(related_data)
        return time.perf_counter() - started

    def drop_raw_tables(self):
        self.execute("DROP TABLE IF EXISTS bench_raw_related")
        self.execute("DROP TABLE IF EXISTS bench_raw")

    # -- export ------------------------------------------------------------------------------
    def export_csv(self, sql, args):
        """`COPY (sql) TO STDOUT WITH CSV`, read to the end: `(seconds, rows, bytes)`."""
        query = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
        size = lines = 0
        started = time.perf_counter()
        with self.conn.cursor() as cur:
            with cur.copy(query, args) as copy:
                for block in copy:
                    size += len(block)
                    lines += bytes(block).count(b"\n")
        return time.perf_counter() - started, lines - 1, size


class RawSqlite(RawDb):
    def __init__(self, path):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # The server's pragmas (backend/db/src/connection.rs); the file is already in WAL mode.
        self.conn.executescript("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")

    def close(self):
        self.conn.close()

    @staticmethod
    def _args(args):
        out = []
        for a in args:
            if isinstance(a, dt.datetime):
                out.append(sqlite_timestamp(a))
            elif isinstance(a, bool):
                out.append(int(a))
            else:
                out.append(a)
        return out

    def fetchall(self, sql, args=()):
        return self.conn.execute(sql.replace("%s", "?"), self._args(args)).fetchall()

    def execute(self, sql, args=()):
        self.conn.execute(sql.replace("%s", "?"), self._args(args))

    def versions(self):
        return {"python_sqlite": sqlite3.sqlite_version}

    def size_bytes(self):
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))

    def indexes_used(self, sql, args):
        found = []
        for row in self.fetchall("EXPLAIN QUERY PLAN " + sql, args):
            detail = row[-1]
            m = re.search(r"USING (?:COVERING )?INDEX (\S+)", detail)
            scanned = re.match(r"(?:SCAN|SEARCH) (\S+)", detail)
            if m:
                name = m.group(1)
            elif "VIRTUAL TABLE" in detail and scanned:
                name = f"{scanned.group(1)} (virtual table)"
            elif "INTEGER PRIMARY KEY" in detail:
                name = "rowid"
            elif detail.startswith("SCAN") and scanned:
                name = f"full scan of {scanned.group(1)}"
            else:
                name = None
            if name and name not in found:
                found.append(name)
        return ", ".join(found) or "—"

    # -- ingest ------------------------------------------------------------------------------
    def create_raw_tables(self):
        """Copies of `events` and `event_related` with everything the migrations hang on them
        (indexes, triggers, full-text tables whose content is `events`), renamed, so that an insert
        costs the same work."""
        self.drop_raw_tables()
        chosen = []
        for kind, name, table, sql in self.fetchall("SELECT type, name, tbl_name, sql FROM sqlite_master "
                                                     "WHERE sql IS NOT NULL"):
            virtual = kind == "table" and sql.upper().startswith("CREATE VIRTUAL TABLE")
            if (name in ("events", "event_related") or (kind in ("index", "trigger") and table in ("events", "event_related"))
                    or (virtual and re.search(r"content\s*=\s*['\"]?events['\"]?", sql))):
                order = {"table": 2 if virtual else (0 if name == "events" else 1), "index": 3, "trigger": 4}[kind]
                chosen.append((order, name, sql))
        renames = {name: {"events": "bench_raw", "event_related": "bench_raw_related"}.get(name, f"bench_raw_{name}")
                   for _, name, _ in chosen}
        pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(renames, key=len, reverse=True)) + r")\b")
        for _, _, sql in sorted(chosen):
            self.conn.execute(pattern.sub(lambda m: renames[m.group(1)], sql))

    def next_raw_id(self):
        return (self.scalar("SELECT max(id) FROM bench_raw") or 0) + 1

    def encode_batch(self, rows, related):
        return ([self._args(r) for r in rows], related)

    def insert_batch(self, encoded):
        """One batch in one transaction: a prepared INSERT per event, then per related row."""
        rows, related = encoded
        insert = f"INSERT INTO bench_raw ({', '.join(ROW_COLUMNS)}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})"
        insert_related = (f"INSERT INTO bench_raw_related ({', '.join(RELATED_COLUMNS)}) "
                          f"VALUES ({', '.join('?' * len(RELATED_COLUMNS))})")
        started = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(insert, rows)
            self.conn.executemany(insert_related, related)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return time.perf_counter() - started

    def drop_raw_tables(self):
        virtual = self.fetchall("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'bench_raw%' "
                                "AND sql LIKE 'CREATE VIRTUAL TABLE%'")
        for (name,) in virtual:
            self.conn.execute(f"DROP TABLE IF EXISTS {name}")
        self.conn.execute("DROP TABLE IF EXISTS bench_raw_related")
        self.conn.execute("DROP TABLE IF EXISTS bench_raw")

    # -- export ------------------------------------------------------------------------------
    def export_csv(self, sql, args):
        """Python's csv writer over a cursor, to /dev/null: `(seconds, rows, bytes)`."""
        rows = 0
        started = time.perf_counter()
        with open(os.devnull, "w", newline="", encoding="utf-8") as sink:
            counter = _CountingWriter(sink)
            writer = csv.writer(counter)
            cursor = self.conn.execute(sql.replace("%s", "?"), self._args(args))
            writer.writerow([d[0] for d in cursor.description])
            while True:
                batch = cursor.fetchmany(1000)
                if not batch:
                    break
                writer.writerows(batch)
                rows += len(batch)
        return time.perf_counter() - started, rows, counter.size


class _CountingWriter:
    def __init__(self, sink):
        self.sink, self.size = sink, 0

    def write(self, text):
        self.size += len(text)
        return self.sink.write(text)
