"""The client-support check as ``commsflow lint`` reports it (:mod:`commsflow.email_support`
finds what the clients lack): one warning per feature a built e-mail uses and a client lacks,
naming the clients and what to do — replace it (:data:`ADVICE` says how) or accept how the
clients show it — unless the team has accepted it, with a reason, in
``templates/newsletter/client-support.yaml``; every mistake in that file is an error.
Findings of an unchanged e-mail are kept in the state folder between runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from commsflow.email_support import CLIENTS_BY_KEY, DATA, Finding, Gap, check, features
from commsflow.errors import Problem, Severity, closest
from commsflow.i18n import N_, _

# What the team has accepted, next to the templates it is about (relative to the templates folder).
ACCEPTED = "newsletter/client-support.yaml"


# --- what to do about it ---------------------------------------------------------------------------

ACCEPT, REPLACE = "accept", "replace"
_LAYOUT = (REPLACE, N_("lay it out with tables: MJML's sections and columns"))
_FLOW = (REPLACE, N_("place it in the flow of MJML's sections and columns"))
_IMAGE = (REPLACE, N_("use a PNG or JPG image"))
_VALUE = (REPLACE, N_("write the value itself"))
_COLOUR = (REPLACE, N_("write the colour as #rrggbb"))
_FORM = (REPLACE, N_("link to the form on the website instead"))
_MEDIA = (REPLACE, N_("show a picture that links to it on the website instead"))
_BACKGROUND = (REPLACE, N_("set text on a background colour; an image goes in an <img> with alt text"))
_DARK = (ACCEPT, N_("the client shows the light colours, or darkens them by itself"))
_GRADIENT = (ACCEPT, N_("the background colour set beside the gradient shows instead"))
_SIZES = (ACCEPT, N_("Outlook does not scale sizes set in attributes when Windows is set to 120 dpi"))
# What a finding asks of the team, by feature: replace it (how), or accept how the clients
# show it (what readers then see). Features not listed get a general hint.
ADVICE: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "css-display-flex",
            "css-display-grid",
            "css-flex-direction",
            "css-flex-wrap",
            "css-gap",
            "css-align-items",
            "css-justify-content",
            "css-grid-template",
        ),
        _LAYOUT,
    ),
    **dict.fromkeys(("css-position", "css-left-right-top-bottom", "css-inset", "css-z-index"), _FLOW),
    "css-float": (REPLACE, N_("use an align attribute on the table or image instead")),
    **dict.fromkeys(
        (
            "css-background-image",
            "css-background-size",
            "css-background-position",
            "css-background-repeat",
            "html-background",
        ),
        _BACKGROUND,
    ),
    **dict.fromkeys(
        ("html-svg", "image-svg", "image-webp", "image-avif", "image-heif", "image-tiff", "image-bmp"), _IMAGE
    ),
    **dict.fromkeys(("css-variables", "css-unit-calc", "css-function-min", "css-function-max"), _VALUE),
    "css-function-clamp": _VALUE,
    **dict.fromkeys(("css-rgb", "css-rgba", "css-modern-color"), _COLOUR),
    **dict.fromkeys(("html-form", "html-select", "html-textarea", "html-input-text"), _FORM),
    **dict.fromkeys(("html-input-submit", "html-input-checkbox", "html-input-radio", "html-button-submit"), _FORM),
    **dict.fromkeys(("html-video", "html-audio", "html-object"), _MEDIA),
    **dict.fromkeys(
        ("css-at-media-prefers-color-scheme", "css-color-scheme", "html-meta-color-scheme", "css-function-light-dark"),
        _DARK,
    ),
    **dict.fromkeys(("css-linear-gradient", "css-radial-gradient", "css-conic-gradient"), _GRADIENT),
    **dict.fromkeys(("html-width", "html-height"), _SIZES),
    "html-doctype": (ACCEPT, N_("Outlook ignores it; readers see no difference")),
    "html-style": (
        ACCEPT,
        N_("these clients drop the <style> block: what matters has to be in style attributes as well"),
    ),
    "html-body": (ACCEPT, N_("Gmail replaces <body> by a <div>: what is set only on <body> may be lost")),
    "css-at-media": (ACCEPT, N_("the layout for small screens is not applied: readers see the wide one, scaled")),
    "css-border-radius": (ACCEPT, N_("corners show square")),
    "css-box-shadow": (ACCEPT, N_("no shadow is drawn")),
    "css-text-shadow": (ACCEPT, N_("no shadow is drawn")),
    "css-word-break": (ACCEPT, N_("long words and addresses may break at any letter")),
    "css-at-font-face": (ACCEPT, N_("the text shows in the next font named in font-family")),
    "css-display-none": (ACCEPT, N_("what it should hide shows, unless other properties hide it too")),
    "css-opacity": (ACCEPT, N_("the element shows fully opaque")),
}


def _clients(gaps: list[Gap]) -> str:
    return ", ".join(_(gap.client.label) for gap in gaps)


def _gist(note: str) -> str:
    """A note of caniemail's without its label ("Partial.", "Buggy."), links and code marks."""
    text = re.sub(r"^(?:Partial(?:ly supported| support)?|Buggy|Not supported)\s*[.:,]\s*", "", note.strip())
    text = re.sub(r"\s*\(See [^)]*\)\)?", "", text)
    text = re.sub(r"\s*See \[[^\]]*\]\([^)]*\)(?: and \[[^\]]*\]\([^)]*\))*\.?", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return text.replace("`", "").strip().rstrip(".") or note


def message(finding: Finding, gaps: list[Gap]) -> str:
    """``display (display:flex): not supported in Outlook (Windows), Gmail (Android)``."""
    parts = []
    unsupported = [gap for gap in gaps if gap.level == "n"]
    if unsupported:
        parts.append(_("not supported in {clients}").format(clients=_clients(unsupported)))
    partly: dict[tuple[str, ...], list[Gap]] = {}
    for gap in gaps:
        if gap.level == "a":
            partly.setdefault(tuple(_gist(note) for note in gap.notes), []).append(gap)
    for notes, group in partly.items():
        if notes:
            parts.append(
                _("only partly supported in {clients}: {notes}").format(
                    clients=_clients(group), notes=" / ".join(notes)
                )
            )
        else:
            parts.append(_("only partly supported in {clients}").format(clients=_clients(group)))
    return _("{feature}: {gaps}").format(feature=_feature(finding), gaps="; ".join(parts))


def _feature(finding: Finding) -> str:
    """caniemail's name, and how the e-mail uses it where that says more: ``margin (margin:0 auto)``."""
    title = finding.title

    def same(detail: str) -> bool:
        return detail.lower().replace(" ", "") in title.lower().replace(" ", "")

    shown = [detail if len(detail) <= 60 else detail[:59] + "…" for detail in finding.details if not same(detail)]
    if not shown:
        return title
    more = ", …" if len(shown) > 3 else ""
    return f"{title} ({', '.join(shown[:3])}{more})"


def hint(finding: Finding, gaps: list[Gap]) -> str:
    """What to do: replace it (how), or accept it (what readers see, and the line to add)."""
    keys = ", ".join(gap.client.key for gap in gaps)
    entry = f"{finding.slug}: {{clients: [{keys}], reason: …}}"
    verdict, advice = ADVICE.get(finding.slug, ("", ""))
    if verdict == REPLACE:
        return _("replace it: {advice} ({url})").format(advice=_(advice), url=finding.url)
    if verdict == ACCEPT:
        return _("{advice}; if that is acceptable, say why in {file}: {entry} ({url})").format(
            advice=_(advice), file=f"templates/{ACCEPTED}", entry=entry, url=finding.url
        )
    return _(
        "check on caniemail what these clients do with it ({url}); replace it, or accept it with the reason in "
        "{file}: {entry}"
    ).format(url=finding.url, file=f"templates/{ACCEPTED}", entry=entry)


# --- accepted findings ----------------------------------------------------------------------------


@dataclass
class Accepted:
    """What the team has accepted: the clients each feature may lack, and what is wrong
    with the file that says so."""

    clients: dict[str, frozenset[str]]
    problems: list[Problem]

    def of(self, slug: str) -> frozenset[str]:
        return self.clients.get(slug, frozenset())


_ACCEPT_HINT = N_(
    "each entry is a feature as lint names it, with clients: (a list of clients, or all) and reason: (why that is fine)"
)
_PLACEHOLDER_REASONS = frozenset({"", "…", "...", "todo", "tbd"})


def load_accepted(path: Path, shown: str) -> Accepted:
    """``templates/newsletter/client-support.yaml``: feature → clients and reason. Every
    mistake becomes a problem naming the entry; a mistaken entry accepts nothing."""
    clients: dict[str, frozenset[str]] = {}
    problems: list[Problem] = []

    def problem(message: str, line: int | None, field: str | None = None, hint: str | None = None) -> None:
        problems.append(Problem(shown, message, line=line, field=field, hint=hint or _(_ACCEPT_HINT)))

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Accepted(clients, problems)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or _("not UTF-8 text")
        problem(_("cannot read ({reason})").format(reason=reason), None)
        return Accepted(clients, problems)
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem(
            _("file is not valid YAML: {reason}").format(reason=getattr(exc, "problem", None) or exc),
            mark.line + 1 if mark else None,
        )
        return Accepted(clients, problems)
    if root is None:
        return Accepted(clients, problems)
    if not isinstance(root, yaml.MappingNode):
        problem(_("expected features with their clients and reason, found a list or a text"), root.start_mark.line + 1)
        return Accepted(clients, problems)
    known = features()
    for key_node, value_node in root.value:
        slug = key_node.value if isinstance(key_node, yaml.ScalarNode) else ""
        line = key_node.start_mark.line + 1
        if slug not in known:
            guess = closest(slug, list(known))
            problem(
                _("caniemail has no feature {slug!r}").format(slug=slug),
                line,
                slug,
                _("did you mean {guess!r}?").format(guess=guess) if guess else None,
            )
            continue
        entry = _accepted_entry(slug, value_node, problem)
        if entry is not None:
            clients[slug] = clients.get(slug, frozenset()) | entry
    return Accepted(clients, problems)


def _accepted_entry(slug: str, node, problem) -> frozenset[str] | None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        problem(_("expected clients and reason under the feature"), line, slug)
        return None
    fields = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
    ok = True
    for name in fields:
        if name not in ("clients", "reason"):
            problem(_("unknown field {name!r}: an entry has clients and reason").format(name=name), line, slug)
            ok = False
    reason = fields.get("reason")
    if not isinstance(reason, yaml.ScalarNode) or reason.value.strip().lower() in _PLACEHOLDER_REASONS:
        problem(
            _("no reason given"),
            (reason.start_mark.line + 1) if reason is not None else line,
            f"{slug}.reason",
            _("say in a sentence why readers of these clients are served well enough"),
        )
        ok = False
    listed = fields.get("clients")
    keys: list[str] = []
    if isinstance(listed, yaml.ScalarNode) and listed.value == "all":
        keys = list(CLIENTS_BY_KEY)
    elif (
        isinstance(listed, yaml.SequenceNode)
        and listed.value
        and all(isinstance(item, yaml.ScalarNode) for item in listed.value)
    ):
        for item in listed.value:
            if item.value in CLIENTS_BY_KEY:
                keys.append(item.value)
            else:
                guess = closest(item.value, list(CLIENTS_BY_KEY))
                problem(
                    _("unknown client {client!r}").format(client=item.value),
                    item.start_mark.line + 1,
                    f"{slug}.clients",
                    _("did you mean {guess!r}?").format(guess=guess)
                    if guess
                    else _("the clients are {clients}, or all").format(clients=", ".join(CLIENTS_BY_KEY)),
                )
                ok = False
    else:
        problem(
            _("clients must be a list of clients, or all"),
            (listed.start_mark.line + 1) if listed is not None else line,
            f"{slug}.clients",
            _("the clients are {clients}, or all").format(clients=", ".join(CLIENTS_BY_KEY)),
        )
        ok = False
    return frozenset(keys) if ok else None


# --- for commsflow lint ------------------------------------------------------------------------------


def built_emails(config) -> list[Path]:
    """The e-mails ``newsletter build`` wrote (approved issues and draft previews)."""
    folder = config.path("build") / "newsletter"
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.rglob("email.html") if path.is_file())


@cache
def _checked(html: str) -> tuple[Finding, ...]:
    return tuple(check(html))


def _as_data(finding: Finding) -> dict:
    return {
        "slug": finding.slug,
        "title": finding.title,
        "url": finding.url,
        "details": list(finding.details),
        "line": finding.line,
        "gaps": [[gap.client.key, gap.level, list(gap.notes)] for gap in finding.gaps],
    }


def _from_data(data: dict) -> Finding:
    gaps = tuple(Gap(CLIENTS_BY_KEY[key], level, tuple(notes)) for key, level, notes in data["gaps"])
    return Finding(data["slug"], data["title"], data["url"], tuple(data["details"]), data["line"], gaps)


class _Kept:
    """The findings of each e-mail by its digest, kept in the state folder between runs as long
    as commsflow's code and the data stay the same: a build checks only e-mails that changed."""

    def __init__(self, folder: Path | None):
        from commsflow.cache import code_fingerprint, read_kept

        self.path = folder / "client-support.json" if folder is not None else None
        key = hashlib.blake2b(digest_size=16)
        key.update(code_fingerprint().encode() + b"\0" + DATA.read_bytes())
        self.key = key.hexdigest()
        self.kept: dict[str, list] = read_kept(self.path, self.key)
        self.fresh: dict[str, list] = {}

    def findings(self, html: str) -> tuple[Finding, ...]:
        digest = hashlib.blake2b(html.encode(), digest_size=16).hexdigest()
        entry = self.kept.get(digest)
        found = None
        if entry is not None:
            try:
                found = tuple(_from_data(data) for data in entry)
            except (KeyError, TypeError, ValueError):
                found = None
        if found is None:
            found = _checked(html)
        self.fresh[digest] = [_as_data(finding) for finding in found]
        return found

    def save(self) -> None:
        from commsflow.cache import write_kept

        if self.fresh != self.kept:
            write_kept(self.path, self.key, self.fresh)


def problems(config, cache_folder: Path | None = None) -> list[Problem]:
    """12. Every feature of a built e-mail that Outlook (Windows), Gmail or Apple Mail lack and
    the team has not accepted: a warning each, at the first e-mail that uses it (the others
    are built from the same templates), and every mistake in the file of accepted ones.
    ``cache_folder``: where the findings of unchanged e-mails are kept between runs."""
    root = config.root

    def shown(path: Path) -> str:
        return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

    accepted_file = config.path("templates") / ACCEPTED
    accepted = load_accepted(accepted_file, shown(accepted_file))
    found = list(accepted.problems)
    emails = built_emails(config)
    if not emails:
        return found
    from commsflow.email_features import Unreadable  # the e-mails' reader: loaded when there are e-mails

    kept = _Kept(cache_folder)
    reported: set[tuple[str, str]] = set()
    for path in emails:
        try:
            html = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue  # the generated-HTML check says so
        try:
            findings = kept.findings(html)
        except Unreadable as exc:
            found.append(
                Problem(
                    shown(path),
                    _("client support not checked: the HTML cannot be read ({reason})").format(reason=exc),
                    hint=_("check the markup the newsletter templates write"),
                    severity=Severity.WARNING,
                )
            )
            continue
        for finding in findings:
            gaps = [gap for gap in finding.gaps if gap.client.key not in accepted.of(finding.slug)]
            if not gaps:
                continue
            text = message(finding, gaps)
            if (finding.slug, text) in reported:
                continue
            reported.add((finding.slug, text))
            found.append(
                Problem(shown(path), text, line=finding.line, hint=hint(finding, gaps), severity=Severity.WARNING)
            )
    kept.save()
    return found
