"""A newsletter issue as files: e-mail HTML (MJML), web version, plain text, .eml.

The assembled issue becomes plain data for the templates (``templates/newsletter/``);
Jinja2 renders MJML, ``mjml-python`` compiles it to HTML without web fonts, and the
result is checked before anything is written: size against Gmail's clipping, links
and image sources, alt texts, third-party requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from urllib.parse import urlsplit

from markupsafe import Markup
from mjml import mjml2html

from commsflow import markdown
from commsflow.assemblers.newsletter import AssembledIssue, Entry
from commsflow.config import Config
from commsflow.errors import CommsflowError, Problem, Severity
from commsflow.i18n import _
from commsflow.links import ics_url, is_own, item_url, link_problem, references, rewrite_hrefs, with_utm
from commsflow.media import ImageRefused, is_local, local_image, refused
from commsflow.renderers import ics
from commsflow.renderers.templating import environment, render
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


def render_issue(issue: AssembledIssue, config: Config, *, now: datetime) -> RenderedIssue:
    campaign = issue.campaign
    issue_id = campaign.id
    problems = list(issue.problems)
    env = environment(config)
    media: dict[str, Path] = {}
    problems += _check_intro_links(issue)

    def context(tracked: bool, mode: str) -> dict:
        link = _Links(config, issue_id, tracked)
        return _context(issue, config, link, mode, media, problems)

    email_mjml = render(env, f"{TEMPLATES}/email.mjml", **context(True, "email"))
    web_mjml = render(env, f"{TEMPLATES}/email.mjml", **context(False, "web"))
    text = render(env, f"{TEMPLATES}/email.txt", **context(True, "email"))
    email_html = compile_mjml(email_mjml, f"{TEMPLATES}/email.mjml")
    web_html = compile_mjml(web_mjml, f"{TEMPLATES}/email.mjml")
    problems += check_html(email_html, config, shown=f"{issue_id}/email.html")

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
    return RenderedIssue(issue_id, email_html, web_html, text, message, ics_files, media, problems)


def compile_mjml(source: str, name: str) -> str:
    try:
        # fonts={} — no <link> to Google Fonts: opening the mail must not contact a third party.
        return mjml2html(source, disable_comments=True, fonts={})
    except ValueError as exc:
        raise CommsflowError(
            _("{template}: the rendered MJML does not compile: {error}").format(template=name, error=exc),
            _("check the tags the template writes (mjml-python/MRML)"),
        ) from None


def _context(issue: AssembledIssue, config: Config, link, mode: str, media: dict, problems: list) -> dict:
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
                "intro_text": markdown.html_to_text(section_intro).strip(),
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
            "intro_text": markdown.html_to_text(intro_html).strip(),
            "web_url": web_url(config, issue.campaign.id),
            "drafts": issue.drafts,
        },
        "sections": sections,
        "footer": {
            "sender_name": letter.sender_name,
            "unsubscribe_url": letter.unsubscribe_url,
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


def _teaser(html: str) -> str:
    """The first words of the body, cut at a word boundary."""
    text = " ".join(markdown.html_to_text(html).split())
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


def check_html(html: str, config: Config, *, shown: str) -> list[Problem]:
    """What the finished e-mail must not do: clip in Gmail, link relatively, load from third parties."""
    problems = []
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
    # RFC 2369 and RFC 8058: the mail client's own "unsubscribe" button, one click, no login.
    message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
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


def output_files(rendered: RenderedIssue, config: Config) -> dict[Path, bytes | str]:
    folder = issue_folder(config, rendered.issue_id)
    build = config.path("build")
    files: dict[Path, bytes | str] = {
        folder / "email.html": rendered.email_html,
        folder / "web.html": rendered.web_html,
        folder / "email.txt": rendered.text,
        folder / "issue.eml": rendered.message.as_bytes(),
    }
    for slug, data in rendered.ics_files.items():
        files[build / "events" / f"{slug}.ics"] = data
    for public, source in rendered.media.items():
        files[build / public] = source.read_bytes()
    return files


def render_archive(config: Config, issues: list[dict]) -> str:
    """The archive page: every built issue, newest first, linking its web version."""
    env = environment(config)
    return render(env, f"{TEMPLATES}/archive.html", organisation=config.organisation.model_dump(), issues=issues)
