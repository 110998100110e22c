"""A newsletter issue as files: e-mail HTML (MJML), web version, plain text, .eml.

The assembled issue becomes plain data for the templates (``templates/newsletter/``);
Jinja2 renders MJML, ``mjml-python`` compiles it to HTML without web fonts, ``css-inline``
copies the CSS into the elements' style attributes (for clients that drop ``<style>``), and the
result is checked before anything is written: size against Gmail's clipping, links
and image sources, alt texts, third-party requests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from markupsafe import Markup
from mjml import mjml2html

from commsflow import list_tools, markdown
from commsflow.assemblers.newsletter import AssembledIssue, Entry
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.i18n import _
from commsflow.links import ics_url, is_own, item_url, link_problem, references, rewrite_hrefs, with_utm
from commsflow.list_tools import ListTool
from commsflow.media import ImageRefused, is_local, local_image, refused
from commsflow.renderers import ics
from commsflow.renderers.templating import References, environment, render
from commsflow.validation import field_path

# Gmail cuts messages whose HTML exceeds about 102 KB and hides the rest behind
# "[Nachricht gekürzt]" — including the unsubscribe link in the footer.
CLIP_LIMIT = 102 * 1024
CLIP_WARNING = 90 * 1024
SUMMARY_LIMIT = 300  # characters of body text used when an item has no summary

TEMPLATES = "newsletter"


@dataclass
class RenderedIssue:
    issue_id: str
    email_html: str
    web_html: str
    text: str
    message: EmailMessage
    ics_files: dict[str, bytes]  # event slug → calendar file
    media: dict[str, Path]  # public path under the build folder → source file
    problems: list[Problem] = field(default_factory=list)
    drafts: bool = False  # items not yet approved are in it: a preview, never the issue itself

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


def issue_folder(config: Config, issue_id: str) -> Path:
    return config.path("build") / "newsletter" / issue_id


def web_url(config: Config, issue_id: str) -> str:
    return f"{config.links.public_url}newsletter/{issue_id}/web.html"


class _Links:
    """Turns content addresses into what one rendition links to."""

    def __init__(self, config: Config, issue_id: str, tracked: bool):
        self.config, self.issue_id, self.tracked = config, issue_id, tracked

    def __call__(self, url: str | None) -> str | None:
        if url and self.tracked and is_own(url, self.config):
            return with_utm(url, source="newsletter", medium="email", campaign=self.issue_id)
        return url


def render_issue(
    issue: AssembledIssue, config: Config, *, now: datetime, list_tool: ListTool | None = None
) -> RenderedIssue:
    """``list_tool``: whose placeholders for each reader's own addresses the e-mail carries
    (default: the configuration's, :func:`commsflow.list_tools.chosen`); the web version has none."""
    campaign = issue.campaign
    issue_id = campaign.id
    problems = list(issue.problems)
    env = environment(config)
    media: dict[str, Path] = {}
    problems += _check_intro_links(issue)
    tool = list_tool or list_tools.chosen(config)

    def context(tracked: bool, mode: str) -> dict:
        link = _Links(config, issue_id, tracked)
        return _context(issue, config, link, mode, media, problems, tool if mode == "email" else list_tools.NONE)

    email_mjml = render(env, f"{TEMPLATES}/email.mjml", **context(True, "email"))
    web_mjml = render(env, f"{TEMPLATES}/email.mjml", **context(False, "web"))
    # The plain text cites each link by number (``links``) and lists them at its end.
    text = render(env, f"{TEMPLATES}/email.txt", **context(True, "email"), links=References())
    email_html = compile_mjml(email_mjml, f"{TEMPLATES}/email.mjml")
    web_html = compile_mjml(web_mjml, f"{TEMPLATES}/email.mjml")
    problems += check_html(email_html, config, shown=f"{issue_id}/email.html", list_tool=tool)

    events = [entry.item for entry in issue.entries if entry.item.kind == "event"]
    ics_files = {item.slug: ics.event_ics(item, config, stamp=now, url=item_url(item, config)) for item in events}
    message = build_message(
        config,
        campaign.spec.subject,
        email_html,
        text,
        date=campaign.spec.send_at,
        message_id=_stable_id(issue_id, email_html, text, config),
    )
    return RenderedIssue(issue_id, email_html, web_html, text, message, ics_files, media, problems, drafts=issue.drafts)


# Several clients (Gmail with other providers' accounts, many webmailers and corporate gateways) drop
# every <style> block, so each element also carries its CSS in its style attribute. What cannot be
# inlined stays in <style>: the media queries (MJML's columns, dark mode), the rules for a client's
# own wrappers (#outlook a, .moz-text-html) and rules nothing in this issue uses; a rule that was
# inlined is removed there, so no declaration travels twice. Nothing is fetched: a <link> is kept
# as written, for check_html to refuse. (Before 0.22, remove_inlined_selectors dropped the media
# queries too: hence the lower bound in pyproject.toml.)
_INLINER = css_inline.CSSInliner(
    keep_style_tags=True,
    remove_inlined_selectors=True,
    keep_link_tags=True,
    load_remote_stylesheets=False,
    minify_css=True,
)


def compile_mjml(source: str, name: str) -> str:
    try:
        # fonts={} — no <link> to Google Fonts: opening the mail must not contact a third party.
        html = mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        raise CommsflowError(
            _("{template}: the rendered MJML does not compile: {error}").format(template=name, error=exc),
            _("check the tags the template writes (mjml-python/MRML)"),
        ) from None
    try:
        return _INLINER.inline(html)
    except css_inline.InlineError as exc:
        raise CommsflowError(
            _("{template}: the CSS of the compiled e-mail cannot be inlined: {error}").format(template=name, error=exc),
            _("check the rules in the template's <mj-style>"),
        ) from None


def _context(
    issue: AssembledIssue, config: Config, link, mode: str, media: dict, problems: list, tool: ListTool
) -> dict:
    spec = issue.campaign.spec
    intro_html = rewrite_hrefs(markdown.to_html(spec.intro), link)
    sections = []
    for section in issue.sections:
        if not section.entries and section.spec.cta is None:
            continue
        section_intro = markdown.to_html(section.spec.intro) if section.spec.intro else ""
        cta = section.spec.cta
        sections.append(
            {
                "title": section.spec.title,
                "intro_html": Markup(rewrite_hrefs(section_intro, link)),
                "entries": [_card(entry, issue, config, link, media, problems) for entry in section.entries],
                "cta": {"text": cta.text, "url": link(cta.url)} if cta else None,
            }
        )
    letter = config.newsletter
    return {
        "mode": mode,
        "organisation": config.organisation.model_dump(),
        "issue": {
            "id": issue.campaign.id,
            "title": spec.title,
            "subject": spec.subject,
            "preheader": spec.preheader or "",
            "send_at": spec.send_at,
            "period": spec.period.model_dump(),
            "intro_html": Markup(intro_html),
            # The reader's own copy on the web where the list tool keeps one, else the issue's web version.
            "web_url": tool.web_version or web_url(config, issue.campaign.id),
            "drafts": issue.drafts,
        },
        "sections": sections,
        "footer": {
            "sender_name": letter.sender_name,
            # The list tool's placeholder for each reader's own unsubscribe address, else the fixed page.
            "unsubscribe_url": tool.unsubscribe or letter.unsubscribe_url,
            "imprint_url": letter.imprint_url,
            "privacy_url": letter.privacy_url,
            "website": link(config.organisation.website),
        },
    }


def _card(entry: Entry, issue: AssembledIssue, config: Config, link, media: dict, problems: list) -> dict:
    item = entry.item
    meta = item.meta
    summary = entry.summary or meta.summary or _teaser(item.html)
    card = {
        "kind": item.kind,
        "slug": item.slug,
        "title": meta.title,
        "summary": summary,
        "category": getattr(meta, "category", None),
        "date": getattr(meta, "date", None),
        "url": link(item_url(item, config)),
        "external": bool(item_url(item, config)) and not is_own(item_url(item, config), config),
        "featured": entry.featured,
        "draft": entry.draft,
        "image": _image(item, config, media, problems),
        "event": None,
    }
    if item.kind == "event":
        venue = meta.venue
        card["event"] = {
            "start": meta.start,
            "end": meta.end,
            "all_day": meta.all_day,
            "multi_day": meta.multi_day,
            "format": meta.format,
            "venue": venue.line if venue else None,
            "registration_url": link(meta.registration),
            "ics_url": ics_url(config, item.slug),
            "upcoming": _start(meta.start, config) >= issue.campaign.spec.send_at,
        }
    return card


def _start(start, config: Config) -> datetime:
    if isinstance(start, datetime):
        return start
    return datetime(start.year, start.month, start.day, tzinfo=config.zone)


# A teaser is the body's words, not its structure: headings, code and images are left out,
# and a link gives its words only (the card links the item itself).
_LEFT_OUT = re.compile(r"<(h[1-6]|pre)\b[^>]*>.*?</\1>", re.DOTALL)
_BETWEEN_WORDS = re.compile(r"</?(?:p|li|ul|ol|blockquote|table|thead|tbody|tr|td|th|hr|br)\b[^>]*>")
_TAG = re.compile(r"<[^>]*>")


def _teaser(html: str) -> str:
    """The first words of the body, cut at a word boundary."""
    words = _TAG.sub("", _BETWEEN_WORDS.sub(" ", _LEFT_OUT.sub(" ", html)))
    text = " ".join(unescape(words).split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    return text[:SUMMARY_LIMIT].rsplit(" ", 1)[0].rstrip(",;:–-") + " …"


def _image(item, config: Config, media: dict, problems: list) -> dict | None:
    image = item.meta.image
    if image is None:
        return None
    src = image.src
    if is_local(src):
        # Only an image inside the content folder is copied to the public build (commsflow.media).
        try:
            source = local_image(src, item.path, config.root, config.path("content"))
        except ImageRefused as exc:
            problems.append(refused(exc, item.path, config.root))
            return None
        public = f"media/{item.slug}/{Path(src).name}"
        media[public] = source
        src = config.links.public_url + public
    elif link_problem(src):
        problems.append(
            Problem(
                item.path,
                _("image address {src!r} {problem}").format(src=src, problem=link_problem(src)),
                field="image.src",
                hint=_("give a full https:// address"),
            )
        )
        return None
    return {"src": src, "alt": image.alt, "credit": image.credit}


def _check_intro_links(issue: AssembledIssue) -> list[Problem]:
    campaign = issue.campaign
    spec = campaign.spec
    texts = [(("intro",), spec.intro)] + [
        (("sections", index, "intro"), section.intro) for index, section in enumerate(spec.sections) if section.intro
    ]
    problems = []
    for loc, text in texts:
        for tag, _attribute, url, attributes in references(markdown.to_html(text)):
            why = link_problem(url)
            if why:
                problems.append(
                    Problem(
                        campaign.path,
                        _("link {url!r} {problem}").format(url=url, problem=why),
                        line=campaign.line_of(loc),
                        field=field_path(loc),
                        hint=_("write the full address, starting with https://"),
                    )
                )
            if tag == "img" and not (attributes.get("alt") or "").strip():
                problems.append(
                    Problem(
                        campaign.path,
                        _("image {src!r} has no alt text").format(src=url),
                        line=campaign.line_of(loc),
                        field=field_path(loc),
                        hint=_("describe the image: ![Beschreibung](adresse)"),
                    )
                )
    return problems


def check_html(html: str, config: Config, *, shown: str, list_tool: ListTool | None = None) -> list[Problem]:
    """What the finished e-mail must not do: clip in Gmail, link relatively, load from third parties.
    The placeholders ``list_tool`` (default: the configuration's) fills in for each reader are not checked."""
    problems = []
    filled_in = list_tools.placeholders(list_tool or list_tools.chosen(config))
    size = len(html.encode("utf-8"))
    if size > CLIP_LIMIT:
        problems.append(
            Problem(
                shown,
                _(
                    "the e-mail HTML is {size:.0f} KB; Gmail clips messages over "
                    "{limit} KB and hides the rest, unsubscribe link included"
                ).format(size=size / 1024, limit=CLIP_LIMIT // 1024),
                hint=_("shorten the issue: fewer items per section, shorter summaries"),
            )
        )
    elif size > CLIP_WARNING:
        problems.append(
            Problem(
                shown,
                _("the e-mail HTML is {size:.0f} KB, close to Gmail's clipping at {limit} KB").format(
                    size=size / 1024, limit=CLIP_LIMIT // 1024
                ),
                hint=_("keep the next additions short"),
                severity=Severity.WARNING,
            )
        )
    own_hosts = {urlsplit(url).hostname for url in (*config.own_site, config.links.public_url)}
    for tag, attribute, url, attributes in references(html):
        if tag == "a" and url in filled_in:
            continue
        why = link_problem(url)
        if why:
            problems.append(
                Problem(
                    shown,
                    f"<{tag} {attribute}={url!r}> {why}",
                    hint=_("every address in an e-mail must be absolute (https://…); check the templates"),
                )
            )
            continue
        if tag == "img" and not (attributes.get("alt") or "").strip() and attributes.get("role") != "presentation":
            problems.append(
                Problem(shown, _("image {src!r} has no alt text").format(src=url), hint=_("add alt text to the image"))
            )
        if attribute == "src" or tag == "link":
            host = urlsplit(url).hostname
            if host not in own_hosts:
                severity = Severity.WARNING if tag == "img" else Severity.ERROR
                problems.append(
                    Problem(
                        shown,
                        _("<{tag}> loads {url!r} from {host} when the e-mail is opened").format(
                            tag=tag, url=url, host=host
                        ),
                        hint=_(
                            "serve it from the organisation's own site (a relative image path "
                            "is copied to the build folder)"
                        ),
                        severity=severity,
                    )
                )
    return problems


def build_message(
    config: Config, subject: str, html: str, text: str, *, date: datetime, message_id: str, to: list[str] | None = None
) -> EmailMessage:
    letter = config.newsletter
    message = EmailMessage(policy=SMTP)
    message["From"] = formataddr((letter.sender_name, letter.sender_address))
    message["To"] = ", ".join(to) if to else (letter.list_address or letter.sender_address)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    # No List-Unsubscribe, no List-Unsubscribe-Post: this is one message for every reader, and the
    # one-click unsubscribe a mail client offers (RFC 8058) needs an address that names the reader.
    # What sends each reader a copy adds both, with that reader's address (listmonk does; a list
    # server behind list_address adds its own List-* headers): see commsflow.list_tools.
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    # A boundary from the content instead of a random one: an unchanged issue rebuilds byte for byte.
    message.set_boundary(f"=_commsflow_{_digest(html, text)}")
    return message


def _sender_domain(config: Config) -> str:
    return config.newsletter.sender_address.rsplit("@", 1)[1]


def _stable_id(issue_id: str, html: str, text: str, config: Config) -> str:
    """The same issue content gives the same Message-ID, so rebuilding changes nothing."""
    return f"<{issue_id}.{_digest(html, text)}@{_sender_domain(config)}>"


def _digest(html: str, text: str) -> str:
    return hashlib.blake2b((html + text).encode("utf-8"), digest_size=8).hexdigest()


def fresh_message_id(config: Config, issue_id: str) -> str:
    return make_msgid(idstring=issue_id, domain=_sender_domain(config))


ISSUE_FILES = ("email.html", "web.html", "email.txt", "issue.eml")


def output_folder(config: Config, rendered: RenderedIssue) -> Path:
    """Where the rendered issue's files go: the issue's folder, or for a preview with drafts
    its ``preview/`` folder, so that a preview never replaces the approved issue's files."""
    folder = issue_folder(config, rendered.issue_id)
    return folder / "preview" if rendered.drafts else folder


def output_files(rendered: RenderedIssue, config: Config) -> dict[Path, bytes | str]:
    """The issue's files; with the events' calendar files and the images it shows, except for a
    preview with drafts: what is not approved is not copied to the public build."""
    folder = output_folder(config, rendered)
    build = config.path("build")
    texts = (rendered.email_html, rendered.web_html, rendered.text, rendered.message.as_bytes())
    files: dict[Path, bytes | str] = {folder / name: data for name, data in zip(ISSUE_FILES, texts, strict=True)}
    if rendered.drafts:
        return files
    for slug, data in rendered.ics_files.items():
        files[build / "events" / f"{slug}.ics"] = data
    for public, source in rendered.media.items():
        files[build / public] = source.read_bytes()
    return files


# --- the web archive ---------------------------------------------------------------------------

# What the ledger says of an issue's send job: it went out (posted: sent by a person), or it did not.
SENT = ("done", "posted")
NOT_SENT = ("failed", "missed", "dismissed")


def sent_issues(campaigns, now: datetime, records: dict | None = None) -> list:
    """The issue campaigns that are out as of ``now``, newest first. The ledger's records
    (``records``: job id → row), where the caller knows them, have the last word: an issue
    they record as sent is out even before its send time, one they record as failed, missed
    or dismissed is not; any other issue is out once its send time has passed."""
    said: dict[str, set[str]] = {}
    for record in (records or {}).values():
        if record.get("channel") == "newsletter":
            said.setdefault(record.get("item"), set()).add(record.get("state"))

    def sent(campaign) -> bool:
        states = said.get(campaign.id, set())
        if states & set(SENT):
            return True
        if states & set(NOT_SENT):
            return False
        return campaign.spec.send_at <= now

    return sorted((c for c in campaigns if sent(c)), key=lambda c: c.spec.send_at, reverse=True)


def archive_folder(config: Config) -> Path:
    return config.path("build") / "newsletter"


def render_archive(config: Config, issues: list, *, now: datetime) -> dict[Path, str]:
    """The archive page (``index.html``) and its Atom feed (``feed.xml``) for ``issues``: the
    sent issue campaigns whose web version is built, newest first (:func:`sent_issues`).
    Each entry's summary is the issue's preheader; the feed is as new as its newest issue."""
    env = environment(config)
    entries = [
        {
            "id": campaign.id,
            "title": campaign.spec.title,
            "subject": campaign.spec.subject,
            "preheader": campaign.spec.preheader or "",
            "send_at": campaign.spec.send_at,
            "updated": _rfc3339(campaign.spec.send_at),
            "url": web_url(config, campaign.id),
        }
        for campaign in issues
    ]
    base = f"{config.links.public_url}newsletter/"
    feed = {
        "url": base,
        "self": f"{base}feed.xml",
        "updated": entries[0]["updated"] if entries else _rfc3339(now),
    }
    context = {"organisation": config.organisation.model_dump(), "issues": entries, "feed": feed}
    folder = archive_folder(config)
    return {
        folder / "index.html": render(env, f"{TEMPLATES}/archive.html", **context),
        folder / "feed.xml": render(env, f"{TEMPLATES}/feed.xml", **context),
    }


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
