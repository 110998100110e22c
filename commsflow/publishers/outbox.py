"""outbox: the default publisher — each job becomes a folder for a person to post by hand.

``<state>/outbox/<channel>/<job>/`` holds ``text.txt`` (the text as readers see it),
``payload.json`` (job, channel, item, kind, title, link and the API request body, if
any), ``message.eml`` (a newsletter issue) and the rendered files. A job's folder is
written under a temporary name and renamed when complete, so it is there whole or not
at all. ``outbox/sent.log`` gets one line per job put in the outbox (time, job,
channel): a job whose folder exists is not written or logged again (``deduplicates``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from commsflow.config import Config
from commsflow.errors import CommsflowError
from commsflow.files import write_atomic
from commsflow.i18n import _
from commsflow.publishers.base import Payload, Permanent, Receipt

OUTBOX = "outbox"
SENT_LOG = "sent.log"
RESERVED = frozenset({"text.txt", "payload.json", "message.eml"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100


def safe_name(text: str) -> str:
    """``text`` as one file name: letters, digits, ``. _ -``; where anything had to change,
    a short hash of the original keeps two different ids apart."""
    name = _UNSAFE.sub("-", text).strip(".-_")[:_MAX_NAME] or "job"
    if name != text:
        name += "-" + hashlib.blake2b(text.encode("utf-8"), digest_size=4).hexdigest()
    return name


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutboxSettings:
    folder: Path  # the outbox itself, e.g. .commsflow/outbox
    clock: Callable[[], datetime] = _utc_now  # the time written to sent.log (a virtual clock in --simulate)


class OutboxPublisher:
    name = "outbox"
    credentials = ()  # the environment variables that expire (alerts tell before they do)
    deduplicates = True  # a job whose folder exists is not written again
    secrets = ()  # it knows none

    def __init__(self, settings: OutboxSettings):
        self.settings = settings
        self._temporaries: dict[Path, dict[str, list[str]]] = {}

    @classmethod
    def from_env(
        cls,
        config: Config,
        environ=os.environ,
        *,
        state_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> OutboxPublisher:
        """The outbox in the state folder (``[paths] state``, or ``state_dir``). Needs no secrets."""
        folder = Path(state_dir if state_dir is not None else config.path("state")) / OUTBOX
        return cls(OutboxSettings(folder, clock or _utc_now))

    def __repr__(self) -> str:
        return f"OutboxPublisher({self.settings.folder})"

    @property
    def log(self) -> Path:
        return self.settings.folder / SENT_LOG

    def folder_for(self, payload: Payload) -> Path:
        return self.settings.folder / safe_name(payload.channel) / safe_name(payload.job_id)

    def publish(self, payload: Payload) -> Receipt:
        target = self.folder_for(payload)
        receipt_id = target.relative_to(self.settings.folder).as_posix()
        if target.is_dir():
            return self._already(payload, receipt_id)
        files = self._files(payload)
        parent = target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            for stale in self._stale(parent).pop(target.name, ()):  # left by a crash while writing
                shutil.rmtree(parent / stale, ignore_errors=True)
            temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}~", suffix=".tmp", dir=parent))
        except OSError as exc:
            raise Permanent(
                _(
                    "{channel}: cannot write the outbox folder {folder} ({reason}) — "
                    "check its permissions and free disk space"
                ).format(channel=payload.channel, folder=parent, reason=exc.strerror)
            ) from None
        try:
            for name, data in files.items():
                write_atomic(temporary / name, data)
            os.chmod(temporary, 0o755)
            os.rename(temporary, target)
        except (CommsflowError, OSError) as exc:
            shutil.rmtree(temporary, ignore_errors=True)
            if target.is_dir():  # written meanwhile by another process
                return self._already(payload, receipt_id)
            reason = exc.message if isinstance(exc, CommsflowError) else exc.strerror
            raise Permanent(
                _(
                    "{channel}: cannot write {folder} ({reason}) — "
                    "check the outbox folder's permissions and free disk space"
                ).format(channel=payload.channel, folder=target, reason=reason)
            ) from None
        problem = self._log(payload)
        return Receipt(payload.channel, receipt_id, note=problem)

    def _stale(self, parent: Path) -> dict[str, list[str]]:
        """Temporary folders a crash left in ``parent``, by the job they were for. The folder
        is listed once per process: listing it on every publish made a year quadratic."""
        if parent not in self._temporaries:
            found: dict[str, list[str]] = {}
            with os.scandir(parent) as entries:
                for entry in entries:
                    # ".<job>~<random>.tmp": "~" is in no safe name, so the job part is exact.
                    if entry.name.startswith(".") and entry.name.endswith(".tmp") and "~" in entry.name:
                        found.setdefault(entry.name[1:].rsplit("~", 1)[0], []).append(entry.name)
            self._temporaries[parent] = found
        return self._temporaries[parent]

    def _already(self, payload: Payload, receipt_id: str) -> Receipt:
        # A crash between the rename and the log line: the folder is the truth, log it once.
        problem = None if self._logged(payload.job_id) else self._log(payload)
        note = _("already in the outbox; {problem}").format(problem=problem) if problem else _("already in the outbox")
        return Receipt(payload.channel, receipt_id, note=note)

    def _files(self, payload: Payload) -> dict[str, bytes | str]:
        record = {
            "job_id": payload.job_id,
            "channel": payload.channel,
            "item": payload.item,
            "kind": payload.kind,
            "title": payload.title,
            "link": payload.link,
        }
        if payload.body is not None:
            record["body"] = payload.body
        files: dict[str, bytes | str] = {
            "text.txt": payload.text if payload.text.endswith("\n") else payload.text + "\n",
            "payload.json": json.dumps(record, ensure_ascii=False, indent=2) + "\n",
        }
        if payload.message is not None:
            files["message.eml"] = payload.message.as_bytes()
        for name, data in payload.files.items():
            path = PurePosixPath(name)
            if (
                not name
                or path.is_absolute()
                or ".." in path.parts
                or "\\" in name
                or path.as_posix() in RESERVED
                or path.as_posix() in ("", ".")
            ):
                raise Permanent(
                    _(
                        "{channel}: the rendered file name {name!r} of {item} cannot "
                        "go in the outbox — use a plain relative name other than {reserved}"
                    ).format(
                        channel=payload.channel, name=name, item=payload.item, reserved=", ".join(sorted(RESERVED))
                    )
                )
            files[path.as_posix()] = data
        return files

    def _log(self, payload: Payload) -> str | None:
        """Append the job's line to sent.log; a problem is returned for the receipt, not raised:
        the job is in the outbox all the same."""
        line = (
            f"{self.settings.clock().isoformat(timespec='seconds')}\t{_field(payload.job_id)}"
            f"\t{_field(payload.channel)}\n"
        )
        try:
            with open(self.log, "a", encoding="utf-8") as log:  # one short append: one line, whole
                log.write(line)
        except OSError as exc:
            return _("{path} not written ({reason}): check the folder's permissions").format(
                path=self.log, reason=exc.strerror
            )
        return None

    def _logged(self, job_id: str) -> bool:
        try:
            with open(self.log, encoding="utf-8") as log:
                return any(line.split("\t")[1:2] == [_field(job_id)] for line in log)
        except FileNotFoundError:
            return False

    def sent(self) -> list[tuple[str, str, str]]:
        """The lines of sent.log as (time, job id, channel)."""
        try:
            text = self.log.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [tuple(line.split("\t", 2)) for line in text.splitlines() if line]


def _field(text: str) -> str:
    """``text`` as one field of a tab-separated line."""
    return re.sub(r"[\t\r\n]", " ", text)
