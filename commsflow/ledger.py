"""The ledger: what was sent, when, with which receipt — an SQLite file in the state folder.

A job is recorded before it is sent (``sending``, committed) and after (``done``
with the channel's receipt, or ``failed`` with the reason). Every change is also
appended to ``history``, so the ledger is its own audit log. One scheduler at a
time: :func:`exclusive` holds an OS lock on ``scheduler.lock`` for the process's
life; the operating system releases it when the process ends, however it ends.

A ledger has an id (``meta``), and the state folder remembers the id of its ledger in
``ledger.id``, written on the first real run. An empty or missing ledger is a new one only
where nothing says this folder ran a scheduler before (:func:`check_continuity`): else it
was lost, and starting afresh would send everything again.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from commsflow.errors import CommsflowError
from commsflow.files import write_atomic
from commsflow.i18n import N_, _, ngettext

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    item TEXT NOT NULL,
    planned TEXT NOT NULL,
    state TEXT NOT NULL,            -- sending, done, failed, missed; dismissed, posted (by a person)
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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,           -- id: this ledger's id, also in the state folder's ledger.id
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT NOT NULL,              -- the event (commsflow.alerts), e.g. failed:JOB:SEQ, blocked:JOB:approval
    channel TEXT NOT NULL,          -- email or webhook: each is told once
    kind TEXT NOT NULL,             -- failed, missed, blocked, stale, waiting, credential
    job TEXT,                       -- the job it is about, if any
    event TEXT NOT NULL,            -- what the message says, as JSON
    created TEXT NOT NULL,
    sent TEXT,                      -- when it was delivered; NULL while it is not
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT,                   -- after a failed attempt: not before this time
    error TEXT,                     -- why the last attempt failed (scrubbed)
    PRIMARY KEY (key, channel)
);
"""


def ledger_path(config) -> Path:
    """The real ledger of a project (``config``: its configuration)."""
    return config.path("state") / "ledger.sqlite"


# A person settled the job: it is never sent (posted: published by hand, counts as done).
SETTLED = ("dismissed", "posted")
MARKER = "ledger.id"  # in the state folder: the id of the ledger the scheduler there uses


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
            # FULL: a committed "sending" survives a power cut (NORMAL holds a killed process too, but
            # may lose the last commits on a power cut: a post would go out twice). A sent job's two
            # commits cost ~0.7 ms at FULL against ~0.1 ms at NORMAL here (make bench: ledger.*).
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and any(
                cause in str(exc).lower() for cause in ("readonly", "read-only", "disk is full", "unable to open")
            ):  # the file is fine; the folder or the disk is not
                from commsflow.files import explain_sqlite

                raise explain_sqlite(exc, _("{path} (the ledger)").format(path=path)) from None
            raise CommsflowError(
                _("{path}: the ledger cannot be opened ({reason})").format(path=path, reason=exc),
                _("restore it from a backup; do not delete it — it is what keeps posts from going out twice"),
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
                if row["state"] in ("done", "sending", "missed", *SETTLED) or row["permanent"]:
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

    def identity(self) -> str | None:
        """This ledger's id; None for a ledger that has none yet (new, or older than ids)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()
        return row["value"] if row else None

    def assign_identity(self) -> str:
        """Give the ledger an id unless it has one; its id."""
        with self._transaction():
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('id', ?)", (uuid.uuid4().hex,))
        return self.identity()

    def is_blank(self) -> bool:
        """Nothing was ever recorded in it."""
        return self.db.execute("SELECT EXISTS(SELECT 1 FROM jobs) OR EXISTS(SELECT 1 FROM history)").fetchone()[0] == 0

    def interrupted(self) -> list[dict]:
        """Jobs left in ``sending`` by a process that died while sending."""
        return [dict(row) for row in self.db.execute("SELECT * FROM jobs WHERE state='sending'")]

    # --- a person acts on a job (commsflow retry, dismiss, posted) -----------------------------

    def retry(self, job, at: datetime, why: str) -> None:
        """Send a failed or missed job again on the next pass (the cause was fixed)."""
        with self._transaction():
            self.db.execute(
                "UPDATE jobs SET state='failed', permanent=0, retry_at=?, updated=? WHERE id=?",
                (at.isoformat(), at.isoformat(), job.id),
            )
            self._log(job.id, at, "retry", why)

    def settle(self, job, at: datetime, state: str, why: str, *, url: str | None = None) -> None:
        """Record that ``job`` is never to be sent: ``dismissed`` (a person decided so) or
        ``posted`` (a person published it by hand; it counts as done)."""
        assert state in SETTLED
        with self._transaction():
            self.db.execute(
                "INSERT INTO jobs (id, channel, item, planned, state, url, note, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET state=excluded.state, "
                "url=COALESCE(excluded.url, url), note=excluded.note, retry_at=NULL, permanent=0, "
                "updated=excluded.updated",
                (job.id, job.channel, job.item, job.planned.isoformat(), state, url, why, at.isoformat()),
            )
            self._log(job.id, at, state, why)

    def history(self, job_id: str | None = None) -> list[dict]:
        query = "SELECT * FROM history" + (" WHERE job = ?" if job_id else "") + " ORDER BY seq"
        return [dict(row) for row in self.db.execute(query, (job_id,) if job_id else ())]

    # --- alerts (commsflow.alerts): each event told once per channel, retried while one is down --

    def last_seq(self, job_id: str) -> int:
        """The number of the job's latest history entry (0 if none): what tells one failure of
        a job from a later one after a retry."""
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM history WHERE job = ?", (job_id,)).fetchone()[0]

    def alert_known(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM alerts WHERE key = ? LIMIT 1", (key,)).fetchone() is not None

    def add_alert(self, key: str, kind: str, job: str | None, event: str, channels: list[str], at: datetime) -> bool:
        """Record the event ``key`` to be told on each of ``channels``; False if it is known already."""
        with self._transaction():
            if self.alert_known(key):
                return False
            self.db.executemany(
                "INSERT INTO alerts (key, channel, kind, job, event, created) VALUES (?, ?, ?, ?, ?, ?)",
                [(key, channel, kind, job, event, at.isoformat()) for channel in channels],
            )
        return True

    def alerts_due(self, at: datetime) -> list[dict]:
        """Alerts not delivered yet whose time has come, oldest first."""
        rows = self.db.execute("SELECT * FROM alerts WHERE sent IS NULL ORDER BY created, rowid")
        return [dict(row) for row in rows if row["next_at"] is None or datetime.fromisoformat(row["next_at"]) <= at]

    def alert_sent(self, keys: list[str], channel: str, at: datetime) -> None:
        with self._transaction():
            self.db.executemany(
                "UPDATE alerts SET sent=?, attempts=attempts+1, next_at=NULL, error=NULL WHERE key=? AND channel=?",
                [(at.isoformat(), key, channel) for key in keys],
            )

    def alert_failed(
        self, keys: list[str], channel: str, error: str, next_at: datetime, *, attempted: bool = True
    ) -> None:
        """Not delivered: tried again at ``next_at``. ``attempted`` False: not even tried (the
        channel failed a moment ago for another alert)."""
        with self._transaction():
            self.db.executemany(
                "UPDATE alerts SET attempts=attempts+?, next_at=?, error=? WHERE key=? AND channel=?",
                [(int(attempted), next_at.isoformat(), error, key, channel) for key in keys],
            )

    @staticmethod
    def undelivered_alerts(path: Path) -> list[dict]:
        """Read only (``status``): the alerts in the ledger at ``path`` not delivered yet."""
        if not path.exists():
            return []
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            db.row_factory = sqlite3.Row
            try:
                return [dict(row) for row in db.execute("SELECT * FROM alerts WHERE sent IS NULL ORDER BY created")]
            finally:
                db.close()
        except sqlite3.OperationalError:  # a ledger from before alerts: none yet
            return []


# --- a lost ledger is not a new one ------------------------------------------------------------


def read_marker(state: Path) -> str | None:
    """The id of the ledger this state folder used, from ``ledger.id``; None if not written yet."""
    try:
        text = (state / MARKER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommsflowError(
            _("{path}: cannot be read ({reason})").format(
                path=state / MARKER, reason=getattr(exc, "strerror", None) or exc
            ),
            _("restore it from a backup, or check its permissions; it names the ledger this folder uses"),
        ) from None
    return text or None


def evidence_of_runs(state: Path) -> list[str]:
    """What in ``state`` says a scheduler ran here before: the ledger marker, outbox receipts
    (``outbox/sent.log``, job folders) and the scheduler's lock file. A simulation's own folder
    (``simulation/``) is no evidence."""
    found = []
    if read_marker(state):
        found.append(MARKER)
    outbox = state / "outbox"
    try:
        if (outbox / "sent.log").stat().st_size > 0:
            found.append("outbox/sent.log")
    except OSError:
        pass
    try:
        folders = sum(
            1
            for channel in outbox.iterdir()
            if channel.is_dir() and not channel.is_symlink()
            for job in channel.iterdir()
            if job.is_dir() and not job.name.startswith(".")
        )
    except OSError:
        folders = 0
    if folders:
        found.append(
            ngettext("{count} job folder in outbox/", "{count} job folders in outbox/", folders).format(count=folders)
        )
    if (state / "scheduler.lock").exists():
        found.append("scheduler.lock")
    return found


def _lost(path: Path, what: str, evidence: list[str]) -> CommsflowError:
    """``what``: how the ledger was found, marked with ``N_`` (translated here)."""
    return CommsflowError(
        _(
            "{path}: the ledger {what}, but a scheduler ran in this folder before (found: {evidence}); "
            "the scheduler stops so that nothing is sent twice"
        ).format(path=path, what=_(what), evidence=", ".join(evidence)),
        _(
            "restore {path} from a backup; if you are sure nothing was sent from this folder before, "
            "run `commsflow run --new-ledger` once"
        ).format(path=path),
    )


def _foreign(path: Path, state: Path, found: str | None, expected: str) -> CommsflowError:
    if found:
        message = _(
            "{path}: this is not the ledger this folder used: it has the id {found}, {marker} says {expected}; "
            "the scheduler stops so that nothing is sent twice"
        )
    else:
        message = _(
            "{path}: this is not the ledger this folder used: it has no id, {marker} says {expected}; "
            "the scheduler stops so that nothing is sent twice"
        )
    return CommsflowError(
        message.format(path=path, found=found, marker=state / MARKER, expected=expected),
        _(
            "put back this folder's ledger (a backup of it has the id {expected}); if you are sure this ledger is "
            "the right one, run `commsflow run --new-ledger` once to make it this folder's ledger"
        ).format(expected=expected),
    )


def continuity_problem(path: Path, state: Path) -> CommsflowError | None:
    """Read only (``status``): why the ledger at ``path`` cannot be trusted, or None."""
    if not path.exists():
        return _judge(path, state, None, True, N_("is missing"))[0]
    if path.stat().st_size == 0 and not path.with_name(path.name + "-wal").exists():
        return _judge(path, state, None, True, N_("is empty (0 bytes)"))[0]
    blank, found = True, None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "meta" in tables:
                row = db.execute("SELECT value FROM meta WHERE key = 'id'").fetchone()
                found = row[0] if row else None
            blank = (
                not {"jobs", "history"} <= tables
                or not db.execute("SELECT EXISTS(SELECT 1 FROM jobs) OR EXISTS(SELECT 1 FROM history)").fetchone()[0]
            )
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return None  # opening it says what is wrong
    return _judge(path, state, found, blank)[0]


def _judge(
    path: Path, state: Path, found: str | None, blank: bool, what: str = N_("is empty (no job recorded in it)")
) -> tuple[CommsflowError | None, bool]:
    """(the problem, or None; whether the ledger is new: a first run or a fresh start)."""
    expected = read_marker(state)
    if found is not None:
        return (None, False) if expected in (None, found) else (_foreign(path, state, found, expected), False)
    if not blank:  # recorded jobs, but no id: a ledger from before ids
        return (None, False) if expected is None else (_foreign(path, state, None, expected), False)
    evidence = evidence_of_runs(state)
    if evidence:
        return _lost(path, what, evidence), True
    return None, True


def check_continuity(ledger: Ledger, state: Path, *, new_ledger: bool = False) -> None:
    """Before a real run: refuse a ledger that was lost (empty or missing where the folder has
    run a scheduler before) or swapped (its id is not the one in ``ledger.id``); otherwise make
    sure the ledger has an id and ``ledger.id`` holds it.

    ``new_ledger`` (``run --new-ledger``) confirms a fresh start, or that the ledger there now is
    this folder's; it is refused where there is nothing to confirm, so that it cannot stay in a
    cron line and quietly wave a lost ledger through later.
    """
    path = ledger.path
    problem, new = _judge(path, state, ledger.identity(), ledger.is_blank())
    if problem is None and new_ledger and not new:
        raise CommsflowError(
            _("--new-ledger: {path} is this folder's ledger and in order; there is no fresh start to confirm").format(
                path=path
            ),
            _("run without --new-ledger; it is only for a ledger that was lost or replaced"),
        )
    if problem is not None and not new_ledger:
        raise problem
    identity = ledger.assign_identity()
    if read_marker(state) != identity:
        write_atomic(state / MARKER, identity + "\n")


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    """Wait before the next attempt: the server's Retry-After, else 1, 5, 15, 60 minutes."""
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1))
    steps = (1, 5, 15, 60, 240)
    return timedelta(minutes=steps[min(attempt - 1, len(steps) - 1)])


def _running(state: Path, holder: str) -> CommsflowError:
    return CommsflowError(
        _("another scheduler is running on this ledger ({holder})").format(holder=holder),
        _("stop it first; only one `commsflow run` may use {state} at a time").format(state=state),
    )


def refuse_if_running(state: Path) -> None:
    """Refuse now if another scheduler holds the lock (its ledger is that scheduler's business)."""
    try:
        handle = open(state / "scheduler.lock")  # noqa: SIM115 - closed below; no lock file, no scheduler
    except OSError:
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _running(state, handle.read().strip() or _("another process")) from None
        fcntl.flock(handle, fcntl.LOCK_UN)


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
        holder = handle.read().strip() or _("another process")
        handle.close()
        raise _running(state, holder) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
