"""Issue 12, item 10: the same address and markup rules for every field that reaches an
output: an address with a quote or an angle bracket could end an attribute or a tag in the
HTML, the Markdown release or the calendar file."""

from __future__ import annotations

import json

import pytest

NOW = "2024-03-01 10:00"
EVENT = "mpi-meet-up-2024"


@pytest.mark.parametrize(
    "address",
    [
        'https://www.berlin.de/anmeldung"><script>alert(1)</script>',
        "https://www.berlin.de/anmeldung<iframe>",
        "https://www.berlin.de/anmeldung'onmouseover=x",
        "javascript:alert(1)",
    ],
    ids=["double quote", "angle bracket", "single quote", "javascript"],
)
def test_a_registration_address_with_markup_characters_is_a_content_error(run, mpi, address):
    path = mpi / "content" / "events" / f"{EVENT}.md"
    text = path.read_text(encoding="utf-8")
    quoted = json.dumps(address)  # a YAML double-quoted string
    path.write_text(text.replace("status: approved\n", f"status: approved\nregistration: {quoted}\n", 1), "utf-8")
    line = next(n for n, row in enumerate(path.read_text("utf-8").splitlines(), 1) if row.startswith("registration:"))
    result = run(mpi, "--now", NOW, "check")
    assert result.exit_code == 1
    assert f"content/events/{EVENT}.md:{line}: registration:" in result.stdout
    assert "https://" in result.stdout  # the hint says how to write it
    build = run(mpi, "--now", NOW, "build")
    assert build.exit_code == 1
    for output in (mpi / "build").rglob("*.*"):
        written = output.read_text("utf-8", "replace")
        assert 'href="javascript:' not in written and "<script>alert" not in written and "<iframe>" not in written
        if not _dashboard(mpi, output):  # the dashboard names the problem, escaped
            assert address not in written, output


def _dashboard(project, output) -> bool:
    """The dashboard's pages: the index and the previews' pages in build/drafts/."""
    return output == project / "build" / "index.html" or output.parent == project / "build" / "drafts"


def test_an_ordinary_address_with_query_and_umlaut_is_fine(run, mpi):
    path = mpi / "content" / "events" / f"{EVENT}.md"
    text = path.read_text(encoding="utf-8")
    address = "https://www.berlin.de/industriestadt/anmeldung?termin=meet-up&ort=Bosch%20IoT%20Campus#formular"
    path.write_text(text.replace("status: approved\n", f"status: approved\nregistration: '{address}'\n", 1), "utf-8")
    assert run(mpi, "--now", NOW, "check").exit_code == 0


RELEASE = "2023-10-18-neue-website-und-veranstaltungen"


@pytest.mark.parametrize(
    "lead,says",
    [
        (
            "Berlin stellt die Website vor, [hier klicken](javascript:alert(document.cookie)).",
            "a link to a javascript:",
        ),
        ('Berlin stellt die Website vor. <iframe src="https://example.org/x"></iframe>', "raw HTML (<iframe"),
    ],
    ids=["javascript link", "iframe"],
)
def test_markup_in_a_press_lead_is_a_content_error_and_reaches_no_output(run, mpi, lead, says):
    path = mpi / "content" / "posts" / f"{RELEASE}.md"
    text = path.read_text(encoding="utf-8")
    first = "    Der Masterplan Industriestadt Berlin (MPI) stärkt"
    assert first in text
    path.write_text(text.replace(first, f"    {lead} {first.strip()}", 1), encoding="utf-8")
    line = next(n for n, row in enumerate(path.read_text("utf-8").splitlines(), 1) if row.startswith("  lead:"))
    result = run(mpi, "--now", NOW, "check")
    assert result.exit_code == 1
    assert f"content/posts/{RELEASE}.md:{line}: press.lead: {says}" in " ".join(result.stdout.split())
    run(mpi, "--now", NOW, "build")
    for output in (mpi / "build").rglob("*.*"):
        if not _dashboard(mpi, output):  # it names the problem, escaped, and frames the print view
            written = output.read_text("utf-8", "replace")
            assert "javascript:" not in written and "<iframe" not in written, output


def test_raw_html_in_a_body_is_a_content_error_on_its_line(run, mpi):
    path = mpi / "content" / "posts" / f"{RELEASE}.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    closing = [n for n, row in enumerate(lines) if row == "---"][1]
    lines.insert(closing + 2, '<iframe src="https://example.org/werbung"></iframe>')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(mpi, "--now", NOW, "check")
    assert result.exit_code == 1
    assert f"content/posts/{RELEASE}.md:{closing + 3}: body: raw HTML (<iframe" in result.stdout


def test_autolinks_and_mail_addresses_in_angle_brackets_are_markdown_not_html(run, mpi):
    path = mpi / "content" / "posts" / f"{RELEASE}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + "\nMehr: <https://www.berlin.de/industriestadt/> · <pressestelle@senweb.berlin.de> · CO2 < 5 %\n",
        encoding="utf-8",
    )
    assert run(mpi, "--now", NOW, "check").exit_code == 0
