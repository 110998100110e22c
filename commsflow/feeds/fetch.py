"""Partner feeds as a source: fetch RSS/Atom over HTTP and read their entries.

:class:`Fetcher` does one conditional GET per feed with ``requests`` (a shared
session, one deadline for the whole exchange — connecting, headers and body, see
:mod:`commsflow.feeds.deadline` —, a size limit read as a stream, gzip decoded by
requests, an honest User-Agent) and turns every HTTP outcome into a :class:`Fetched` — a 304,
a permanent redirect, a 410, an error for that feed — never an exception.
:func:`read_entries` hands the bytes and the response headers to feedparser (so
the declared encoding, ``Content-Location`` and ``xml:base`` resolve), with
feedparser's own sanitiser off: :mod:`commsflow.feeds.sanitize` cleans what we keep.
Nothing here writes files; :mod:`commsflow.feeds.news` does.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser
import requests
from feedparser.mixin import _FeedParserMixin

from commsflow import __version__
from commsflow.errors import Problem, Severity
from commsflow.feeds.deadline import Deadline, DeadlineAdapter
from commsflow.feeds.sanitize import clean_html, plain_text, shorten_html, teaser
from commsflow.i18n import _, language, ngettext

# feedparser resolves <guid>/<id> against the feed's address as if it were a link, so
# an opaque guid like "pcg-101" would become "https://host/pcg-101" and change when the
# feed moves. Ids are names, not addresses: keep them as written.
_FeedParserMixin.can_be_relative_uri = set(_FeedParserMixin.can_be_relative_uri) - {"id"}

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
SUMMARY_HTML_LIMIT = 2000  # characters of cleaned HTML kept from a long article
TITLE_LIMIT = 200
_PERMANENT = (301, 308)
_HARMLESS_BOZO = (feedparser.NonXMLContentType,)  # a feed served as text/plain or text/html: read anyway


def user_agent(website: str) -> str:
    return f"commsflow/{__version__} (+{website})"


@dataclass
class Fetched:
    """The outcome of one HTTP exchange for one feed."""

    url: str  # what was asked for
    status: int | None = None  # the final HTTP status; None if there was no answer
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    final_url: str | None = None
    moved_to: str | None = None  # set after a permanent redirect (301/308)
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    hint: str | None = None
    seconds: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        return self.status == 410


class Fetcher:
    """One ``requests`` session for a run; safe to call from a bounded thread pool."""

    def __init__(self, agent: str, *, timeout: float, max_bytes: int, workers: int = 8):
        self.timeout, self.max_bytes = timeout, max_bytes
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=max(workers, 10), pool_maxsize=max(workers, 10), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.max_redirects = 5
        self.session.headers.update({"User-Agent": agent, "Accept": ACCEPT})

    def close(self) -> None:
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """One conditional GET, cut off ``timeout`` seconds after it began, whatever stage it is at."""
        result = Fetched(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        start = time.monotonic()
        host = urlsplit(url).netloc
        timed_out = (
            _("no complete answer from {host} within {seconds} s (timeout)").format(
                host=host, seconds=_decimal(self.timeout)
            ),
            _("the server may be down or slow; the feed is tried again on the next fetch"),
        )
        too_large = False
        with Deadline(self.timeout) as deadline:
            try:
                self._exchange(url, headers, result, deadline)
            except requests.exceptions.SSLError as exc:
                result.error = _("secure connection to {host} failed ({reason})").format(host=host, reason=_reason(exc))
                result.hint = _("the site's certificate is not valid; tell the partner")
            except requests.exceptions.TooManyRedirects:
                result.error = _("too many redirects from {url}").format(url=url)
                result.hint = _("check the address in the feed list; the site may be misconfigured")
            except (requests.exceptions.Timeout, _TooSlow):
                result.error, result.hint = timed_out
            except requests.exceptions.ConnectionError as exc:
                if "timed out" in str(exc).lower():
                    result.error, result.hint = timed_out
                else:
                    result.error = _("cannot connect to {host} ({reason})").format(host=host, reason=_reason(exc))
                    result.hint = _("check the address; the site may be down")
            except _TooLarge:
                too_large = True
                result.error = _("the response is larger than {size} MB; nothing was imported").format(
                    size=_decimal(self.max_bytes / 1024 / 1024)
                )
                result.hint = _("check the address, or raise fetch.max_size_mb in the feed list")
                result.etag = result.last_modified = None
            except requests.exceptions.RequestException as exc:
                result.error = _("the download from {host} failed ({reason})").format(host=host, reason=_reason(exc))
                result.hint = _("the feed is tried again on the next fetch")
            except (OSError, ValueError, http.client.HTTPException):
                # a connection cut off by the deadline can fail below requests' own exceptions
                if not deadline.expired:
                    raise
        if deadline.expired and not too_large:
            # cut off: whatever came of it (a body that ended at the cut, a broken connection) is no answer
            result.status = None
            result.error, result.hint = timed_out
            result.etag = result.last_modified = None
        result.seconds = time.monotonic() - start
        if result.error is None:
            result.error, result.hint = _status_error(result)
        if result.error:
            result.body = b""
        return result

    def _exchange(self, url: str, headers: dict[str, str], result: Fetched, deadline: Deadline) -> None:
        timeout = (min(self.timeout, deadline.remaining()), self.timeout)
        with self.session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            result.status = response.status_code
            result.final_url = response.url
            result.moved_to = _permanent_target(url, response)
            result.headers = {name.lower(): value for name, value in response.headers.items()}
            if response.status_code == 200:
                self._read(response, result, deadline)
                result.etag = response.headers.get("ETag")
                result.last_modified = response.headers.get("Last-Modified")
            elif (
                response.headers.get("Content-Length", "").isdigit()
                and int(response.headers["Content-Length"]) <= 65536
            ):
                response.content  # noqa: B018 - an empty 304 or a short error page: read it, keep the connection

    def _read(self, response: requests.Response, result: Fetched, deadline: Deadline) -> None:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_bytes:
            raise _TooLarge
        chunks, size = [], 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise _TooLarge
            if deadline.expired:
                raise _TooSlow
            chunks.append(chunk)
        result.body = b"".join(chunks)


def _decimal(number: float) -> str:
    """``number`` as briefly as ``:g`` writes it, with a decimal comma in German."""
    text = f"{number:g}"
    return text.replace(".", ",") if language() == "de" else text


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    match = re.search(
        r"\[Errno -?\d+\] ([^'\")]+)|(Connection refused|Name or service not known|"
        r"certificate verify failed[^'\")]*)",
        text,
    )
    if match:
        return (match[1] or match[2]).strip().rstrip(".")
    return text[:120]


def _permanent_target(url: str, response: requests.Response) -> str | None:
    """The address a chain of permanent redirects at the start of the exchange leads to."""
    target = None
    hops = list(response.history)
    for position, hop in enumerate(hops):
        if hop.status_code not in _PERMANENT:
            break
        target = hops[position + 1].url if position + 1 < len(hops) else response.url
    return target if target and target != url else None


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    410: "Gone",
    429: "Too Many Requests",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _status_error(result: Fetched) -> tuple[str | None, str | None]:
    status = result.status
    if status in (200, 304):
        return None, None
    reason = _REASONS.get(status, "")
    where = result.final_url or result.url
    label = (_("HTTP {status} {reason} at {url}") if reason else _("HTTP {status} at {url}")).format(
        status=status, reason=reason, url=where
    )
    if status == 410:
        return (
            _("{problem}: the feed was removed; it is disabled and no longer fetched").format(problem=label),
            _("remove it from the feed list, or give it its new url"),
        )
    if status == 429:
        return label, _("the server asks for fewer requests; the feed is tried again on the next fetch")
    if status is not None and status >= 500:
        return label, _("the partner's server failed; the feed is tried again on the next fetch")
    if status is not None and 200 <= status < 300:
        return (
            _("HTTP {status} at {url} with no feed").format(status=status, url=where),
            _("check the address in the feed list"),
        )
    return label, _("check the address in the feed list")


# --- reading entries ------------------------------------------------------------------------


@dataclass
class Entry:
    """One feed entry, normalised and cleaned: ready to become a news item."""

    title: str
    day: date
    date_assumed: bool
    link: str | None
    guid: str | None
    summary: str  # plain text, one or two sentences
    summary_html: str  # cleaned HTML
    digest: str | None  # content hash of title and text; None when there is too little text
    moment: datetime | None = None  # the feed's date and time, for sorting

    def keys(self, feed: str) -> list[tuple[str, str]]:
        """De-duplication keys, strongest first: guid (within its feed), link, content."""
        found = []
        if self.guid:
            found.append(("guid", f"{feed}\n{self.guid}"))
        if self.link:
            found.append(("link", self.link))
        if self.digest:
            found.append(("hash", self.digest))
        return found


@dataclass
class FeedRead:
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    title: str | None = None
    version: str | None = None

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)


def read_entries(name: str, fetched: Fetched, *, zone: tzinfo, now: datetime) -> FeedRead:
    """The entries of a fetched feed, with a warning or error for everything odd.

    ``name`` labels the problems (the feed's name, or the address for ``feeds try``)."""
    read = FeedRead()

    def problem(message: str, hint: str | None = None, error: bool = False) -> None:
        read.problems.append(Problem(name, message, hint=hint, severity=Severity.ERROR if error else Severity.WARNING))

    body = fetched.body
    where = fetched.final_url or fetched.url
    if not body.strip():
        problem(
            _("{url} answered with an empty page (HTTP {status}, no content); nothing was imported").format(
                url=where, status=fetched.status
            ),
            _("check the address in the feed list"),
            error=True,
        )
        return read
    if _looks_like_html(body):
        problem(*_html_page_problem(where, body), error=True)
        return read
    headers = {
        key: value
        for key, value in fetched.headers.items()
        if key not in ("content-encoding", "content-length", "transfer-encoding")
    }
    headers.setdefault("content-location", where)
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=True
    )
    read.version = parsed.get("version") or None
    read.title = plain_text(parsed.feed.get("title", "")) or None
    raw_entries = parsed.get("entries") or []
    bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(bozo, feedparser.CharacterEncodingOverride):
        # "declared as us-ascii" is RFC 3023's default for text/xml without a charset, which
        # nobody means; any other override decoded the feed in an encoding it did not declare.
        if "declared as us-ascii" not in str(bozo):
            problem(
                _("the feed's declared encoding is wrong ({reason}); read as well as possible").format(reason=bozo),
                _("check umlauts in its news; tell the partner"),
            )
        bozo = None
    if bozo is not None and not isinstance(bozo, _HARMLESS_BOZO):
        reason = _bozo_reason(bozo)
        if not raw_entries and not read.version:
            if "text/html" in fetched.headers.get("content-type", ""):
                problem(*_html_page_problem(where, body), error=True)
            else:
                problem(
                    _("{url} is not a readable feed ({reason})").format(url=where, reason=reason),
                    _("check the address; it should lead to an RSS or Atom feed"),
                    error=True,
                )
            return read
        recovered = ngettext("{count} entry recovered", "{count} entries recovered", len(raw_entries)).format(
            count=len(raw_entries)
        )
        problem(
            _("the feed is not well-formed XML ({reason}); {recovered}").format(reason=reason, recovered=recovered),
            _("the entries were read as well as possible; tell the partner"),
        )
    elif not read.version and not raw_entries:
        problem(
            _("{url} is not an RSS or Atom feed").format(url=where),
            _("check the address in the feed list"),
            error=True,
        )
        return read
    for raw in raw_entries:
        entry = _entry(raw, where, zone, now, problem)
        if entry is not None:
            read.entries.append(entry)
    return read


def _bozo_reason(exc) -> str:
    if exc is None:
        return _("unknown problem")
    message = str(getattr(exc, "getMessage", lambda: exc)())
    line = getattr(exc, "getLineNumber", lambda: None)()
    return _("line {line}: {message}").format(line=line, message=message) if line else message


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    head = re.sub(rb"^(<!--.*?-->\s*)+", b"", head, flags=re.DOTALL)
    return head.startswith((b"<!doctype html", b"<html"))


class _FeedLinks(HTMLParser):
    """``<link rel="alternate" type="application/rss+xml" href="…">`` in an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag != "link":
            return
        values = {key: (value or "") for key, value in attrs}
        kinds = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
        if "alternate" in values.get("rel", "").lower().split() and values.get("type", "").lower() in kinds:
            if values.get("href"):
                self.found.append(values["href"])


def _html_page_problem(where: str, body: bytes) -> tuple[str, str]:
    finder = _FeedLinks()
    try:
        finder.feed(body[:200_000].decode("utf-8", "replace"))
    except Exception:  # noqa: BLE001 - a broken page only means no suggestion
        pass
    for href in finder.found:
        address = canonical_link(href, where)
        if address:
            return (
                _("{url} is an HTML page, not a feed").format(url=where),
                _("use the feed address the page names: {url}").format(url=address),
            )
    return (
        _("{url} is an HTML page, not a feed").format(url=where),
        _("find the feed's address on the site (often …/feed/ or …/rss.xml)"),
    )


def canonical_link(url: str | None, base: str) -> str | None:
    """An absolute http(s) address without ``utm_*`` parameters and fragment, or None."""
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(urljoin(base, url.strip()))
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in parts.geturl()):
        return None
    host = parts.hostname.lower()
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs if not key.lower().startswith("utm_")]
    if len(kept) != len(pairs):
        query = urlencode(kept)
    return urlunsplit((scheme, host, parts.path or "/", query, ""))


_UNSAFE_ID = re.compile(r"[\s<>\"'`\\]|^\s*(?:javascript|vbscript|data):", re.IGNORECASE)


def _guid(value: object) -> str | None:
    """The entry's id as written, or a hash of it if it could carry markup or a script URL."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if _UNSAFE_ID.search(value) or len(value) > 300 or not value.isprintable():
        return "sha1:" + hashlib.sha1(value.encode("utf-8")).hexdigest()
    return value


def content_digest(title: str, text: str) -> str | None:
    if len(text) < 20:  # a bare title says too little to call two entries the same
        return None
    normal = " ".join(f"{title} {text}".casefold().split())
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=16).hexdigest()


def _entry(raw, base: str, zone: tzinfo, now: datetime, problem) -> Entry | None:
    summary_source = raw.get("summary") or ""
    if not summary_source.strip() and raw.get("content"):
        summary_source = raw["content"][0].get("value", "")
    summary_html = shorten_html(clean_html(summary_source), SUMMARY_HTML_LIMIT)
    text = plain_text(summary_html)
    summary = teaser(text)
    title = plain_text(raw.get("title", ""))
    if len(title) > TITLE_LIMIT:
        title = teaser(title, sentences=1, limit=TITLE_LIMIT)
    if not title:
        if not summary:
            problem(_("an entry has neither a title nor a text; skipped"))
            return None
        title = teaser(text, sentences=1, limit=80)
        problem(
            _("an entry has no title; titled {title!r} from its text").format(title=title),
            _("edit the title before approving"),
        )
    label = title if len(title) <= 60 else title[:59] + "…"
    link = canonical_link(raw.get("link"), base)
    if raw.get("link") and link is None:
        problem(
            _("entry {title!r} has no web address as its link; imported without a link").format(title=label),
            _("add the original's address before approving"),
        )
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    moment = None
    if stamp:
        try:
            moment = datetime(*stamp[:6], tzinfo=UTC).astimezone(zone)
        except (TypeError, ValueError):
            moment = None
    assumed = moment is None
    if assumed:
        written = raw.get("published") or raw.get("updated")
        reason = (
            _("its date {date!r} cannot be read").format(date=plain_text(str(written))[:40])
            if written
            else _("it has no date")
        )
        problem(
            _("entry {title!r}: {reason}; dated with the day of the fetch (date_assumed: true)").format(
                title=label, reason=reason
            ),
            _("check the date before approving"),
        )
    elif moment > now + timedelta(days=1):
        problem(
            _("entry {title!r} is dated in the future ({date})").format(title=label, date=moment.date().isoformat()),
            _("check the date before approving"),
        )
    day = (moment or now).date()
    return Entry(
        title=title,
        day=day,
        date_assumed=assumed,
        link=link,
        guid=_guid(raw.get("id")),
        summary=summary,
        summary_html=summary_html,
        digest=content_digest(title, text),
        moment=moment,
    )
