"""The client-support check: what a newsletter e-mail uses that Outlook (Windows), Gmail or
Apple Mail lack, by caniemail's data (vendored in commsflow/data/, never fetched).

A small hand-written e-mail (tests/fixtures/email_support/known_features.html) gives an exact,
reviewed list of findings: MJML's Outlook fallbacks, notes that do not concern a use, rules
that apply to nothing and hidden elements are no findings. The built MPI issue gives a
golden list (``COMMSFLOW_REGENERATE_GOLDEN=1`` rewrites it — read the difference: a change
in the templates or in the data shows there first). ``commsflow lint`` reports what the team
has not accepted in templates/newsletter/client-support.yaml, and every mistake in that file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO

from commsflow import email_findings, email_support
from commsflow.email_features import _condition
from commsflow.plan import open_plan
from commsflow.workspace import Workspace

NOW = "2024-03-01 10:00"
CASES = FIXTURES / "email_support"
ACCEPTED = Path("templates") / "newsletter" / "client-support.yaml"


def gaps(finding) -> list[tuple[str, str]]:
    return [(gap.client.key, gap.level) for gap in finding.gaps]


def findings_in(body: str, head: str = "") -> dict[str, list[tuple[str, str]]]:
    """The findings of a page with this body, but for the doctype's and <body>'s that every page has."""
    html = f'<!doctype html><html lang="de"><head>{head}</head><body>{body}</body></html>'
    findings = {finding.slug: gaps(finding) for finding in email_support.check(html)}
    assert findings.pop("html-doctype") and findings.pop("html-body")
    return findings


GMAIL_APPS = [("gmail.ios", "a"), ("gmail.android", "a")]
ALL_GMAIL = ["gmail.desktop-webmail", "gmail.ios", "gmail.android", "gmail.mobile-webmail"]


# --- a small e-mail with known features -----------------------------------------------------------


def test_a_small_email_gives_exactly_the_reviewed_findings():
    html = (CASES / "known_features.html").read_text(encoding="utf-8")
    findings = email_support.check(html)
    assert [(finding.line, finding.slug, gaps(finding)) for finding in findings] == [
        (1, "html-doctype", [("outlook.windows", "n")]),
        (5, "html-style", [*GMAIL_APPS, ("gmail.mobile-webmail", "n")]),
        (
            7,
            "css-at-media-prefers-color-scheme",
            [("outlook.windows", "n"), ("gmail.desktop-webmail", "n"), ("gmail.ios", "n"), ("gmail.android", "n")],
        ),
        (15, "html-body", [(key, "a") for key in ALL_GMAIL]),
        (16, "css-display-none", [("gmail.mobile-webmail", "n")]),
        (16, "css-opacity", [("gmail.mobile-webmail", "n")]),
        (19, "css-display-flex", [("outlook.windows", "n"), *GMAIL_APPS]),
        (20, "css-margin", [("outlook.windows", "a"), *[(key, "a") for key in ALL_GMAIL]]),
        (22, "html-width", [("outlook.windows", "a")]),
        (22, "image-svg", [("gmail.desktop-webmail", "n"), *GMAIL_APPS, ("gmail.mobile-webmail", "n")]),
        (23, "css-display", [("outlook.windows", "a")]),
        (23, "html-anchor-links", [("gmail.ios", "n")]),
        (27, "css-position", [(key, "n") for key in ALL_GMAIL]),
        (28, "css-border-radius", [("outlook.windows", "n")]),
        (28, "css-text-align", [("outlook.windows", "a")]),
    ]
    margin = next(finding for finding in findings if finding.slug == "css-margin")
    assert margin.details == ("margin:0 auto", "margin:-4px 0 0")
    assert email_findings.message(margin, list(margin.gaps)) == (
        "margin (margin:0 auto, margin:-4px 0 0): only partly supported in Outlook (Windows): auto value is not "
        "supported / Negative values are not supported; only partly supported in Gmail (web), Gmail (iOS), "
        "Gmail (Android), Gmail (mobile web): Negative values are not supported"
    )
    flex = next(finding for finding in findings if finding.slug == "css-display-flex")
    assert email_findings.message(flex, list(flex.gaps)) == (
        "display:flex: not supported in Outlook (Windows); only partly supported in Gmail (iOS), Gmail (Android): "
        "Not supported with non Google accounts"
    )
    assert email_findings.hint(flex, list(flex.gaps)) == (
        "replace it: lay it out with tables: MJML's sections and columns "
        "(https://www.caniemail.com/features/css-display-flex/)"
    )


def test_what_mjml_writes_for_outlook_is_no_finding_for_outlook():
    """The ghost table around a section: what Outlook ignores on the <div> inside it (width,
    auto margins, inline-block) is what the table does for it."""
    wrapped = (
        '<!--[if mso | IE]><table role="presentation" width="600" align="center"><tr><td><![endif]-->'
        '<div style="max-width:600px;margin:0px auto;display:inline-block;width:100%">Text</div>'
        "<!--[if mso | IE]></td></tr></table><![endif]-->"
    )
    assert findings_in(wrapped) == {}
    bare = '<div style="max-width:600px;margin:0px auto;display:inline-block;width:50%">Text</div>'
    assert findings_in(bare) == {
        "css-display": [("outlook.windows", "a")],
        "css-margin": [("outlook.windows", "a")],
        "css-max-width": [("outlook.windows", "a")],
        "css-width": [("outlook.windows", "a")],
    }


def test_outlooks_own_properties_and_stand_ins_cover_what_it_lacks():
    # A button's padding on the link: mso-padding-alt beside it (as MJML writes it).
    assert findings_in('<a href="https://example.org/" style="padding:12px 20px;mso-padding-alt:0">Los</a>') == {}
    assert findings_in('<a href="https://example.org/" style="padding:12px 20px">Los</a>') == {
        "css-padding": [("outlook.windows", "a")]
    }
    # MJML's divider: a <p> with a border, then the same line as a table for Outlook alone.
    divider = (
        '<td><p style="border-top:solid 3px #0b4f8a;margin:0px auto;width:60px"></p>'
        '<!--[if mso | IE]><table role="presentation" width="60px"><tr><td style="height:0">&nbsp;</td></tr>'
        "</table><![endif]--></td>"
    )
    assert findings_in(f"<table><tr>{divider}</tr></table>") == {}


def test_what_is_hidden_from_outlook_or_written_for_it_alone():
    for_others = '<!--[if !mso]><!--><div style="max-height:0">Text</div><!--<![endif]-->'
    assert findings_in(for_others) == {}  # max-height: only Outlook lacks it, and it does not see it
    for_outlook = '<!--[if mso]><div style="position:absolute;max-height:0">Text</div><![endif]-->'
    assert findings_in(for_outlook) == {}
    # A condition Outlook 2016 and later do not meet (Outlook 2003: mso 11) hides its contents from it.
    old = '<!--[if lte mso 11]><style>.x { width:100% !important; }</style><![endif]--><div class="x">Text</div>'
    assert findings_in(old) == {}


@pytest.mark.parametrize(
    ("condition", "outlook_reads_it"),
    [
        ("mso", True),
        ("!mso", False),
        ("mso | IE", True),
        ("(mso)|(IE)", True),
        ("IE", False),
        ("gte mso 9", True),
        ("lte mso 11", False),
        ("mso 16", True),
        ("gt mso 16", False),
        ("!(mso)", False),
        ("true", True),
        ("mso &", False),  # beyond the reader: not Outlook's
        ("vml", False),
    ],
)
def test_conditional_comments_are_read_as_outlook_2016_and_later(condition, outlook_reads_it):
    assert _condition(condition) is outlook_reads_it


def test_notes_of_a_partial_support_count_only_where_they_concern_the_use():
    # "Negative values are not supported" (Gmail), "auto value is not supported" (Outlook).
    assert findings_in('<p style="margin:8px 0">Text</p>') == {}
    assert findings_in('<p style="margin:-8px 0">Text</p>')["css-margin"][1] == ("gmail.desktop-webmail", "a")
    # "Only supported on table cells" (Outlook): padding on a cell is fine.
    assert findings_in('<table><tr><td style="padding:8px">Text</td></tr></table>') == {}
    # "em and px units behave weirdly — use mso-line-height-rule:exactly"; unitless is fine.
    assert findings_in('<p style="line-height:1.5">Text</p>') == {}
    assert findings_in('<p style="line-height:20px">Text</p>') == {"css-line-height": [("outlook.windows", "a")]}
    # Gmail forces target="_blank" on every link: asking for it is no finding.
    assert findings_in('<a href="https://example.org/" target="_blank">Link</a>') == {}
    assert findings_in('<a href="https://example.org/" target="_self">Link</a>')["html-target"][0] == (
        "outlook.windows",
        "a",
    )


def test_what_asks_for_the_default_cannot_fail():
    """A client that ignores these shows the same: margin:0, outline:none, cursor:auto,
    display:block on a <p>."""
    body = (
        '<p style="margin:0;padding:0;display:block;outline:none;word-spacing:normal">Text</p>'
        '<table><tr><td style="cursor:auto;border:0">Text</td></tr></table>'
    )
    assert findings_in(body) == {}


def test_rules_that_apply_to_nothing_and_unsupported_containers_are_not_findings():
    head = (
        "<style>.moz-text-html .column { position:absolute; } #outlook a { padding:0; }"
        "@media (prefers-color-scheme: dark) { .card { box-shadow: 0 0 2px #000; } }</style>"
    )
    findings = findings_in('<div class="card"><a href="https://example.org/">Link</a></div>', head)
    # Nothing in the e-mail has .moz-text-html or #outlook; box-shadow sits in a media query that
    # Outlook and Gmail ignore, so only the media query is their finding.
    assert set(findings) == {"html-style", "css-at-media-prefers-color-scheme"}


def test_an_element_hidden_by_display_none_carries_nothing_that_shows():
    preheader = '<div style="display:none;max-height:0;overflow:hidden;opacity:0">Vorschau</div>'
    assert findings_in(preheader) == {
        "css-display-none": [("gmail.mobile-webmail", "n")],
        "css-opacity": [("gmail.mobile-webmail", "n")],
    }


# --- the built MPI issue: golden ---------------------------------------------------------------------


def golden_text(findings) -> str:
    return "".join(
        f"{finding.line}: {finding.slug}: {email_findings.message(finding, list(finding.gaps))}\n"
        for finding in findings
    )


def test_the_built_mpi_issue_gives_the_reviewed_list(built):
    html = (built / "newsletter-2024-1" / "email.html").read_text(encoding="utf-8")
    text = golden_text(email_support.check(html))
    golden = CASES / "newsletter-2024-1.txt"
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


# --- commsflow lint -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The MPI fixture's build/newsletter folder with both issues and a draft preview, built once."""
    from click.testing import CliRunner

    from commsflow.cli import main

    root = tmp_path_factory.mktemp("built") / "mpi"
    shutil.copytree(FIXTURES / "mpi2024", root)
    shutil.copytree(REPO / "templates", root / "templates")
    for args in (["newsletter-2023-2"], ["newsletter-2024-1"], ["newsletter-2024-1", "--drafts"]):
        result = CliRunner().invoke(
            main, ["--root", str(root), "--now", NOW, "newsletter", "build", *args], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
    return root / "build" / "newsletter"


@pytest.fixture
def emails(mpi, built) -> Path:
    """The MPI fixture project with the built e-mails in its build folder."""
    shutil.copytree(built, mpi / "build" / "newsletter")
    return mpi


def client_support(root: Path, cache: Path | None = None) -> list[str]:
    """What lint's client-support check reports (the rest of lint is tests/test_lint.py's)."""
    config = Workspace(root=root, now_text=NOW).config
    return [f"{p.severity.value} {p.format()}" for p in email_findings.problems(config, cache)]


def without_line(line: str) -> str:
    return re.sub(r"(email\.html|yaml):\d+: ", r"\1: ", line.split(" — ")[0])


def test_lint_reports_what_the_team_has_not_accepted(emails):
    from commsflow.lint import lint

    accepted = emails / ACCEPTED
    text = accepted.read_text(encoding="utf-8")
    # Accept border-radius for no client, and the meta tag only in part.
    text = re.sub(r"\ncss-border-radius:\n  clients: \[outlook.windows\]\n  reason: [^\n]*\n", "\n", text)
    text = text.replace(
        "clients: [outlook.windows, gmail.desktop-webmail, gmail.ios, gmail.android, gmail.mobile-webmail, "
        "apple-mail.ios]",
        "clients: [outlook.windows, gmail.desktop-webmail, gmail.ios, gmail.android, gmail.mobile-webmail]",
    )
    accepted.write_text(text, encoding="utf-8")
    plan = open_plan(Workspace(root=emails, now_text=NOW))
    found = [f"{p.severity.value} {p.format()}" for p in lint(plan) if "email.html" in p.path]
    shown = "build/newsletter/newsletter-2023-2/email.html"  # the first e-mail that has them
    assert [without_line(line) for line in found] == [
        f'warning {shown}: color-scheme meta tag (<meta name="color-scheme">): not supported in Apple Mail (iOS)',
        f"warning {shown}: border-radius (border-radius:3px): not supported in Outlook (Windows)",
    ]
    assert found[1].split(" — ")[1] == (
        "corners show square; if that is acceptable, say why in templates/newsletter/client-support.yaml: "
        "css-border-radius: {clients: [outlook.windows], reason: …} (https://www.caniemail.com/features/css-border-radius/)"
    )


def test_the_shipped_templates_accept_every_finding_of_the_shipped_issues(emails):
    assert len(email_findings.built_emails(Workspace(root=emails, now_text=NOW).config)) == 3  # and the preview
    assert client_support(emails) == []


def test_a_feature_is_reported_once_for_all_issues_built_from_the_templates(emails):
    (emails / ACCEPTED).unlink()
    found = client_support(emails)
    assert found and all("build/newsletter/newsletter-2023-2/email.html" in line for line in found[:-1])
    # The draft badge's padding exists only in the preview: named there.
    assert without_line(found[-1]) == (
        "warning build/newsletter/newsletter-2024-1/preview/email.html: padding (padding:2px 6px): only partly "
        "supported in Outlook (Windows): Only supported on table cells"
    )
    assert len({line.split(": ", 2)[1] for line in found}) == len(found)


def test_nothing_built_nothing_checked(mpi):
    assert client_support(mpi) == []


def test_findings_are_kept_between_runs_and_follow_a_changed_email(emails, tmp_path):
    (emails / ACCEPTED).unlink()
    cache = tmp_path / "cache"
    first = client_support(emails, cache)
    kept = json.loads((cache / "client-support.json").read_text(encoding="utf-8"))
    assert len(kept["kept"]) == 3
    assert client_support(emails, cache) == first
    email = emails / "build" / "newsletter" / "newsletter-2024-1" / "email.html"
    email.write_text(
        email.read_text(encoding="utf-8").replace("</body>", '<div style="display:grid">x</div></body>'),
        encoding="utf-8",
    )
    changed = client_support(emails, cache)
    assert any("display:grid" in line for line in changed)
    assert changed == client_support(emails)  # as a check without kept findings says


# --- mistakes in the file of accepted findings --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "css-border-radius: [outlook.windows\n",
            "error templates/newsletter/client-support.yaml:2: file is not valid YAML: did not find expected ',' or ']'",
        ),
        ("- css-border-radius\n", "error templates/newsletter/client-support.yaml:1: expected features with"),
        (
            "css-border-radius-ish:\n  clients: [outlook.windows]\n  reason: Eckig.\n",
            "error templates/newsletter/client-support.yaml:1: css-border-radius-ish: caniemail has no feature "
            "'css-border-radius-ish' — did you mean 'css-border-radius'?",
        ),
        (
            "css-border-radius:\n  clients: [outlook.windowz]\n  reason: Eckig.\n",
            "error templates/newsletter/client-support.yaml:2: css-border-radius.clients: unknown client "
            "'outlook.windowz' — did you mean 'outlook.windows'?",
        ),
        (
            "css-border-radius:\n  clients: outlook.windows\n  reason: Eckig.\n",
            "error templates/newsletter/client-support.yaml:2: css-border-radius.clients: clients must be a list of "
            "clients, or all",
        ),
        (
            "css-border-radius:\n  clients: [outlook.windows]\n",
            "error templates/newsletter/client-support.yaml:2: css-border-radius.reason: no reason given — say in a "
            "sentence why readers of these clients are served well enough",
        ),
        (
            "css-border-radius:\n  clients: [outlook.windows]\n  reason: …\n",
            "error templates/newsletter/client-support.yaml:3: css-border-radius.reason: no reason given",
        ),
        (
            "css-border-radius:\n  clients: [outlook.windows]\n  reason: Eckig.\n  until: 2025\n",
            "error templates/newsletter/client-support.yaml:2: css-border-radius: unknown field 'until': an entry "
            "has clients and reason",
        ),
        (
            "css-border-radius: outlook.windows\n",
            "error templates/newsletter/client-support.yaml:1: css-border-radius: expected clients and reason under "
            "the feature",
        ),
    ],
)
def test_a_mistake_in_the_accepted_file_is_an_error_naming_the_entry(emails, text, expected):
    (emails / ACCEPTED).write_text(text, encoding="utf-8")
    found = client_support(emails)
    errors = [line for line in found if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith(expected), errors
    # A mistaken entry accepts nothing: the finding it meant is reported.
    assert any("border-radius (border-radius:3px): not supported in Outlook" in line for line in found)


def test_a_mistake_in_the_accepted_file_fails_lint_with_a_message_not_a_traceback(run, mpi):
    (mpi / ACCEPTED).write_bytes(b"css-border-radius:\n  clients: [outlook.windows]\n  reason: \xff\n")
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 1
    assert "templates/newsletter/client-support.yaml: cannot read (not UTF-8 text)" in result.output
    assert "Traceback" not in result.output


def test_all_accepts_a_feature_everywhere(emails):
    (emails / ACCEPTED).write_text("css-border-radius:\n  clients: all\n  reason: Eckig.\n", encoding="utf-8")
    found = client_support(emails)
    assert found and not any("border-radius" in line for line in found)


def test_a_broken_email_is_read_as_far_as_it_goes_and_never_crashes_lint(emails, monkeypatch):
    # A conditional comment's end outside any comment (a template edited by hand): skipped.
    assert findings_in('<![endif]--><![if mso]><div style="display:flex">x</div>') == {
        "css-display-flex": [("outlook.windows", "n"), *GMAIL_APPS]
    }
    # What the standard library's parser refuses is a warning naming the e-mail.
    from commsflow import email_features

    def refuse(self, i):
        raise AssertionError("unknown status keyword in marked section")

    monkeypatch.setattr(email_features._Reader, "parse_html_declaration", refuse)
    email_findings._checked.cache_clear()
    email = emails / "build" / "newsletter" / "newsletter-2024-1" / "email.html"
    email.write_text(email.read_text(encoding="utf-8") + "<!-- changed -->", encoding="utf-8")
    found = [line for line in client_support(emails) if "newsletter-2024-1/email.html" in line]
    assert found == [
        "warning build/newsletter/newsletter-2024-1/email.html: client support not checked: the HTML cannot be "
        "read (unknown status keyword in marked section) — check the markup the newsletter templates write"
    ]


# --- the data -----------------------------------------------------------------------------------------


def test_the_data_file_carries_its_licence_and_source():
    folder = REPO / "commsflow" / "data"
    licence = (folder / "LICENSE-caniemail.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Copyright (c) 2019 Rémi Parmentier" in licence
    assert "https://www.caniemail.com" in licence
    data = email_support.data()
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"`api_version` {data['api_version']}" in readme
    assert f"`last_update_date` {data['last_update_date']}" in readme
    assert "LICENSE-caniemail.txt" in readme
    assert data["clients"] == [client.key for client in email_support.CLIENTS]
    assert len(data["features"]) > 250
    # Shipped with the package (package data), so that the check runs without the source tree.
    assert '"data/*"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_trim_keeps_the_newest_result_of_each_checked_client_and_the_notes_it_cites():
    raw = {
        "api_version": "9",
        "last_update_date": "2030-01-01",
        "data": [
            {
                "slug": "css-example",
                "title": "example ",
                "category": "css",
                "url": "https://www.caniemail.com/features/css-example/",
                "last_test_date": "2024-01-01",
                "stats": {
                    "apple-mail": {"ios": {"5.1": "n", "12.2": "a #2", "6.1": "y"}},
                    "gmail": {"android": {"12.1": "n", "2024-10": "y #1"}},
                    "outlook": {"windows": {"2016": "n", "2019": "a #1"}, "macos": {"16.80": "y"}},
                    "yahoo": {"desktop-webmail": {"2020-01": "n"}},
                },
                "notes_by_num": {"1": "One.", "2": "Two.", "3": "Three."},
            }
        ],
    }
    assert email_support.trim(raw) == {
        "source": "https://www.caniemail.com/api/data.json",
        "api_version": "9",
        "last_update_date": "2030-01-01",
        "clients": [client.key for client in email_support.CLIENTS],
        "features": {
            "css-example": {
                "title": "example",
                "category": "css",
                "url": "https://www.caniemail.com/features/css-example/",
                "last_test_date": "2024-01-01",
                "support": {
                    "outlook.windows": ["2019", "a #1"],
                    "gmail.android": ["2024-10", "y #1"],
                    "apple-mail.ios": ["12.2", "a #2"],
                },
                "notes": {"1": "One.", "2": "Two."},
            }
        },
    }


def test_the_vendored_file_is_what_vendor_writes_of_its_source(tmp_path):
    """Rebuilding the shipped file from its own content changes nothing: it is trim's output,
    [version, result] pairs on one line each."""
    shipped = email_support.DATA.read_text(encoding="utf-8")
    data = json.loads(shipped)
    features = []
    for slug, feature in data["features"].items():
        stats: dict[str, dict] = {}
        for key, (version, result) in feature["support"].items():
            family, platform = key.split(".")
            stats.setdefault(family, {})[platform] = {version: result}
        kept = {key: feature[key] for key in ("title", "category", "url", "last_test_date")}
        features.append({"slug": slug, **kept, "stats": stats, "notes_by_num": feature["notes"]})
    raw = {"api_version": data["api_version"], "last_update_date": data["last_update_date"], "data": features}
    source, target = tmp_path / "caniemail.json", tmp_path / "trimmed.json"
    source.write_text(json.dumps(raw), encoding="utf-8")
    email_support.vendor(source, target)
    assert target.read_text(encoding="utf-8") == shipped
