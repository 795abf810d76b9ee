"""The local server's services and jobs, kept in SQLite (in memory or in a file).

One connection serves every request thread; the server takes ``Storage.lock``
around each request, so a read-modify-write never interleaves with another.
Each statement commits on its own (autocommit), which is what lets the
generation handlers reproduce the real server's partial commits
(docs/server-api.rst quirks heartbeat-400-still-counts, zero-timeout-500 and
heartbeat-before-validation), and what makes every answered write durable: a server
killed with SIGKILL loses nothing it had answered.
"""
import json
import sqlite3
import threading

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS services (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    registration_schema TEXT NOT NULL,
    result_schema TEXT NOT NULL,
    timeout INTEGER NOT NULL,
    available INTEGER NOT NULL,
    last_checked_in REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    service_id TEXT NOT NULL,
    status TEXT NOT NULL,
    parameters TEXT NOT NULL,
    result TEXT NOT NULL,
    date_submitted REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_service_status ON jobs (service_id, status, seq);
"""

_SERVICE_COLUMNS = ("id", "name", "description", "registration_schema",
                    "result_schema", "timeout", "available", "last_checked_in")
_JSON_COLUMNS = ("registration_schema", "result_schema", "parameters", "result")
_JOB_COLUMNS = ("id", "service_id", "status", "parameters", "result", "date_submitted")
_JOB_SUMMARY_COLUMNS = ("id", "service_id", "status", "date_submitted")


def _stored(column, value):
    """``value`` as the column keeps it: JSON columns hold text."""
    return json.dumps(value) if column in _JSON_COLUMNS else value


class Record(object):
    """A row: its columns as attributes, JSON columns already parsed."""

    def __init__(self, columns, row):
        for name, value in zip(columns, row):
            if name in _JSON_COLUMNS:
                value = json.loads(value)
            setattr(self, name, value)

    def __repr__(self):
        return "Record(%r)" % (self.__dict__,)


class GenerationMismatch(ValueError):
    """Raised when a database file was written by the other server generation."""


class Storage(object):
    """Services and jobs of one local server."""

    def __init__(self, generation, path=None):
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False,
                                   isolation_level=None)
        if path:
            # WAL with synchronous=NORMAL: a commit survives the death of the
            # process (SIGKILL), which is the durability the server promises.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._claim_generation(generation)

    def _claim_generation(self, generation):
        row = self._db.execute(
            "SELECT value FROM meta WHERE key = 'generation'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('generation', ?)",
                (generation,))
        elif row[0] != generation:
            raise GenerationMismatch(
                "%s holds the data of a generation %s server; it cannot be "
                "served as generation %s" % (self.path, row[0], generation))

    def close(self):
        with self.lock:
            self._db.close()

    def reset(self):
        """Forget every service and job."""
        with self.lock:
            self._db.execute("DELETE FROM jobs")
            self._db.execute("DELETE FROM services")

    # Services

    def add_service(self, **fields):
        self._insert("services", _SERVICE_COLUMNS, fields)

    def get_service(self, service_id):
        return self._get("services", _SERVICE_COLUMNS, service_id)

    def list_services(self):
        with self.lock:
            rows = self._db.execute(
                "SELECT %s FROM services ORDER BY seq" % ", ".join(_SERVICE_COLUMNS)
            ).fetchall()
        return [Record(_SERVICE_COLUMNS, row) for row in rows]

    def update_service(self, service_id, **fields):
        self._update("services", service_id, fields)

    def delete_service(self, service_id):
        """Remove a service and its jobs; return whether it existed."""
        with self.lock:
            self._db.execute("DELETE FROM jobs WHERE service_id = ?", (service_id,))
            cursor = self._db.execute("DELETE FROM services WHERE id = ?",
                                      (service_id,))
            return cursor.rowcount > 0

    # Jobs

    def add_job(self, **fields):
        self._insert("jobs", _JOB_COLUMNS, fields)

    def get_job(self, job_id):
        return self._get("jobs", _JOB_COLUMNS, job_id)

    def list_jobs(self, service_id=None, status=None, limit=None, summary=False):
        """Jobs in insertion order, optionally of one service and one status.

        ``summary=True`` leaves out parameters and results, which keeps a long
        2016 queue cheap to list.
        """
        columns = _JOB_SUMMARY_COLUMNS if summary else _JOB_COLUMNS
        clauses, arguments = [], []
        if service_id is not None:
            clauses.append("service_id = ?")
            arguments.append(service_id)
        if status is not None:
            clauses.append("status = ?")
            arguments.append(status)
        query = "SELECT %s FROM jobs" % ", ".join(columns)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY seq"
        if limit is not None:
            query += " LIMIT %d" % int(limit)
        with self.lock:
            rows = self._db.execute(query, arguments).fetchall()
        return [Record(columns, row) for row in rows]

    def update_job(self, job_id, **fields):
        self._update("jobs", job_id, fields)

    # The statements every table shares

    def _insert(self, table, columns, fields):
        values = [_stored(name, fields[name]) for name in columns]
        with self.lock:
            self._db.execute("INSERT INTO %s (%s) VALUES (%s)" % (
                table, ", ".join(columns), ", ".join("?" * len(values))), values)

    def _get(self, table, columns, row_id):
        with self.lock:
            row = self._db.execute("SELECT %s FROM %s WHERE id = ?" % (
                ", ".join(columns), table), (row_id,)).fetchone()
        return Record(columns, row) if row else None

    def _update(self, table, row_id, fields):
        if not fields:
            return
        names = sorted(fields)
        values = [_stored(name, fields[name]) for name in names]
        with self.lock:
            self._db.execute(
                "UPDATE %s SET %s WHERE id = ?" % (
                    table, ", ".join("%s = ?" % name for name in names)),
                values + [row_id])
