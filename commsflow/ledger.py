"""The ledger: what was sent, when, with which receipt — an SQLite file in the state folder.

A job is recorded before it is sent (``sending``, committed) and after (``done``
with the channel's receipt, or ``failed`` with the reason). Every change is also
appended to ``history``, so the ledger is its own audit log. One scheduler at a
time: :func:`exclusive` holds an OS lock on ``scheduler.lock`` for the process's
life; the operating system releases it when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from commsflow.errors import CommsflowError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    item TEXT NOT NULL,
    planned TEXT NOT NULL,
    state TEXT NOT NULL,            -- sending, done, failed, missed
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at TEXT,                  -- a transient failure: not before this time
    permanent INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    url TEXT,
    note TEXT,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    at TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT
);
"""


class Ledger:
    def __init__(self, path: Path, *, durable: bool = True):
        """``durable``: every commit survives a power cut (fsync); a simulation's throwaway
        ledger needs no more than surviving the process."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed "sending" survives a power cut.
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise CommsflowError(
                f"{path}: the ledger cannot be opened ({exc})",
                "restore it from a backup; do not delete it — it is what keeps posts from going out twice",
            ) from None

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def records(self) -> dict[str, dict]:
        return {row["id"]: dict(row) for row in self.db.execute("SELECT * FROM jobs")}

    def get(self, job_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(row) if row else None

    def _log(self, job_id: str, at: datetime, state: str, detail: str | None) -> None:
        self.db.execute(
            "INSERT INTO history (job, at, state, detail) VALUES (?, ?, ?, ?)", (job_id, at.isoformat(), state, detail)
        )

    def claim(self, job, at: datetime) -> bool:
        """Mark ``job`` as sending; False if it is already done, sending, missed or
        permanently failed, or its retry time has not come."""
        with self._transaction():
            row = self.get(job.id)
            if row is not None:
                if row["state"] in ("done", "sending", "missed") or row["permanent"]:
                    return False
                if row["retry_at"] and datetime.fromisoformat(row["retry_at"]) > at:
                    return False
            self.db.execute(
                "INSERT INTO jobs (id, channel, item, planned, state, attempts, updated) VALUES (?, ?, ?, ?, 'sending', 1, ?) "
                "ON CONFLICT(id) DO UPDATE SET state='sending', attempts=attempts+1, retry_at=NULL, updated=excluded.updated",
                (job.id, job.channel, job.item, job.planned.isoformat(), at.isoformat()),
            )
            self._log(job.id, at, "sending", None)
        return True

    def done(self, job_id: str, at: datetime, receipt, dry_run: bool = False) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE jobs SET state='done', receipt=?, url=?, note=?, updated=? WHERE id=?",
                (receipt.id, receipt.url, receipt.note, at.isoformat(), job_id),
            )
            self._log(job_id, at, "done", receipt.id)

    def failed(
        self, job_id: str, at: datetime, reason: str, *, permanent: bool, retry_at: datetime | None = None
    ) -> None:
        with self._transaction():
            self.db.execute(
                "UPDATE jobs SET state='failed', note=?, permanent=?, retry_at=?, updated=? WHERE id=?",
                (reason, int(permanent), retry_at.isoformat() if retry_at else None, at.isoformat(), job_id),
            )
            self._log(job_id, at, "failed", reason)

    def missed(self, job, at: datetime, reason: str) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT INTO jobs (id, channel, item, planned, state, note, updated) VALUES (?, ?, ?, ?, 'missed', ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (job.id, job.channel, job.item, job.planned.isoformat(), reason, at.isoformat()),
            )
            self._log(job.id, at, "missed", reason)

    def interrupted(self) -> list[dict]:
        """Jobs left in ``sending`` by a process that died while sending."""
        return [dict(row) for row in self.db.execute("SELECT * FROM jobs WHERE state='sending'")]

    def history(self, job_id: str | None = None) -> list[dict]:
        query = "SELECT * FROM history" + (" WHERE job = ?" if job_id else "") + " ORDER BY seq"
        return [dict(row) for row in self.db.execute(query, (job_id,) if job_id else ())]


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Wait before the next attempt: the server's Retry-After, else 1, 5, 15, 60 minutes."""
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1))
    steps = (1, 5, 15, 60, 240)
    return timedelta(minutes=steps[min(attempt - 1, len(steps) - 1)])


@contextmanager
def exclusive(state: Path):
    """Hold the scheduler lock for the block; a second scheduler on the same ledger is refused."""
    state.mkdir(parents=True, exist_ok=True)
    path = state / "scheduler.lock"
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise CommsflowError(
            f"another scheduler is running on this ledger ({holder})",
            f"stop it first; only one `commsflow run` may use {state} at a time",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
