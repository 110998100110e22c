"""What every form of a release shares, and the Word file as a press office opens it (issue 17).

Every form (.md, .txt, .html, .docx) is headed by the document type — Pressemitteilung,
Presseeinladung, Presse-Rückblick — and, for an item under embargo, by „Sperrfrist: … Uhr“,
which also opens the e-mail subject (the payload's title). A release planned in the
calendar is dated on its planned day, not on the day it is built.

The Word file: one font family in every style (``[press] font``), „Seite X von Y“ from
PAGE and NUMPAGES fields, headings kept with what follows and no list item alone at a page
top, real hyperlinks, the release's date in its properties. Its XML parts are compared with
golden files (``COMMSFLOW_REGENERATE_GOLDEN=1`` writes them anew), and a test marked
``slow`` has LibreOffice turn it into a PDF and checks pages, fonts and lists there.
"""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from conftest import FIXTURES
from lxml import etree
from test_press import KONFERENZ, NOW, SEED, folder, paragraphs, press

MEETUP = "mpi-meet-up-2024"
GOLDEN = FIXTURES / "press-golden"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
THEME_ATTRIBUTES = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")
KINDS = {SEED: "Pressemitteilung", KONFERENZ: "Presse-Rückblick", MEETUP: "Presseeinladung"}
SPERRFRIST = "Sperrfrist: 28. März 2024, 12:00 Uhr"


def speakers_and_embargo(root: Path) -> None:
    """The Meet-up with two speakers and an embargo until noon of the invitation's day."""
    path = root / "content" / "events" / f"{MEETUP}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "organiser: mpi\n",
            "organiser: mpi\n"
            "embargo: 2024-03-28 12:00\n"
            "speakers:\n"
            "  - name: Franziska Giffey\n"
            "    function: Senatorin für Wirtschaft, Energie und Betriebe\n"
            "  - name: Dr. Jane Ulle\n",
        ),
        encoding="utf-8",
    )


def set_font(root: Path, font: str) -> None:
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('layout = "classic"', f'layout = "classic"\nfont = "{font}"'), encoding="utf-8")


def planned_invitation(root: Path):
    """The Meet-up's press invitation as the calendar plans it (28.03.2024 09:30), rendered."""
    from commsflow.plan import open_plan
    from commsflow.workspace import Workspace

    plan = open_plan(Workspace(root, "2024-03-01 10:00"), ledger=False)
    job = next(job for job in plan.jobs if job.channel == "press" and job.template == "invitation")
    assert job.planned == datetime(2024, 3, 28, 9, 30, tzinfo=job.planned.tzinfo)
    return plan.render(job)


def named(files: dict[str, bytes | str]) -> dict[str, bytes | str]:
    """A rendition's files by file name, the text forms as text."""
    return {
        Path(name).name: data.decode() if isinstance(data, bytes) and name.endswith((".md", ".txt", ".html")) else data
        for name, data in files.items()
    }


def main_text(page: str) -> list[str]:
    """The print HTML's <main> as lines of text."""
    body = page.split("<main>", 1)[1].split("</main>", 1)[0]
    text = html.unescape(re.sub(r"<[^>]+>", "\n", body))
    return [line.strip() for line in text.splitlines() if line.strip()]


def docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


def hyperlinks(data: bytes) -> list[str]:
    return [link.address for p in docx.Document(io.BytesIO(data)).paragraphs for link in p.hyperlinks]


def part(data: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return etree.fromstring(package.read(name))


# --- every form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", [SEED, KONFERENZ, MEETUP])
def test_every_form_is_headed_by_the_document_type(run, mpi, slug):
    kind = KINDS[slug]
    assert press(run, mpi, slug).exit_code == 0
    built = folder(mpi, slug)
    assert (built / "release.md").read_text(encoding="utf-8").startswith(f"**{kind}**\n\n# ")
    assert (built / "release.txt").read_text(encoding="utf-8").splitlines()[0] == kind
    page = (built / "release.html").read_text(encoding="utf-8")
    assert main_text(page)[0] == kind
    assert f" – {kind}</title>" in page and f"<header>Masterplan Industriestadt Berlin · {kind}</header>" in page
    document = docx.Document(io.BytesIO((built / "release.docx").read_bytes()))
    first = document.paragraphs[0]
    assert (first.style.name, first.text, first.runs[0].bold) == ("Normal", kind, True)
    assert document.paragraphs[1].style.name == "Title"
    assert document.core_properties.subject == kind


def test_an_embargo_heads_every_form_and_the_mail_subject(mpi):
    speakers_and_embargo(mpi)
    rendition = planned_invitation(mpi)
    files = named(rendition.files)
    assert rendition.payload.title == f"{SPERRFRIST} – Presseeinladung: MPI Meet-up im Bosch IoT Campus"
    assert files["release.md"].startswith(f"**{SPERRFRIST}**\n\n**Presseeinladung**\n\n# MPI Meet-up")
    assert files["release.txt"].splitlines()[:3] == [SPERRFRIST, "", "Presseeinladung"]
    assert main_text(files["release.html"])[:2] == [SPERRFRIST, "Presseeinladung"]
    assert docx_text(files["release.docx"]).splitlines()[:3] == [
        SPERRFRIST,
        "Presseeinladung",
        "MPI Meet-up im Bosch IoT Campus",
    ]


def test_a_planned_release_is_dated_on_its_planned_day(mpi):
    # Built on 1 March, planned for 28 March: the dateline says 28 March in every form.
    files = named(planned_invitation(mpi).files)
    assert "**Berlin, 28. März 2024 –** Am 25. April 2024" in files["release.md"]
    assert "Berlin, 28. März 2024 – Am 25. April 2024" in docx_text(files["release.docx"])
    assert "1. März 2024" not in files["release.md"] + docx_text(files["release.docx"])
    core = docx.Document(io.BytesIO(files["release.docx"])).core_properties
    assert core.created == core.modified == datetime(2024, 3, 27, 23, 0, tzinfo=UTC)  # 28.03.2024 00:00 in Berlin


def test_an_invitation_lists_speakers_and_how_the_press_registers(run, mpi):
    speakers_and_embargo(mpi)
    assert press(run, mpi, MEETUP).exit_code == 0
    text = (folder(mpi, MEETUP) / "release.md").read_text(encoding="utf-8")
    assert (
        "### Es sprechen\n\n"
        "- **Franziska Giffey**, Senatorin für Wirtschaft, Energie und Betriebe\n"
        "- **Dr. Jane Ulle**\n"
    ) in text
    assert (
        "### Akkreditierung\n\nMedienvertreterinnen und Medienvertreter sind herzlich eingeladen. "
        "Bitte melden Sie sich per E-Mail an: <pressestelle@senweb.berlin.de>.\n"
    ) in text
    found = paragraphs(folder(mpi, MEETUP) / "release.docx")
    at = found.index(("Heading 1", "Es sprechen"))
    assert found[at + 1 : at + 4] == [
        ("List Bullet", "Franziska Giffey, Senatorin für Wirtschaft, Energie und Betriebe"),
        ("List Bullet", "Dr. Jane Ulle"),
        ("Heading 1", "Akkreditierung"),
    ]
    for fact in ("Datum: Donnerstag, 25. April 2024", "Uhrzeit: 16:00 Uhr", "Ort: Bosch IoT Campus, Berlin"):
        assert ("List Bullet", fact) in found
    # A recap neither invites the press nor lists who will speak.
    assert press(run, mpi, KONFERENZ).exit_code == 0
    recap = (folder(mpi, KONFERENZ) / "release.md").read_text(encoding="utf-8")
    assert "Akkreditierung" not in recap and "Es sprechen" not in recap


# --- the Word file ------------------------------------------------------------------------------


def test_word_contact_block_and_every_link_are_real_hyperlinks(run, mpi):
    post = mpi / "content" / "posts" / f"{SEED}.md"
    post.write_text(
        post.read_text(encoding="utf-8")
        + "\nMehr im [Monitoring-Bericht](https://www.berlin.de/industriestadt/bericht/).\n",
        encoding="utf-8",
    )
    assert press(run, mpi, SEED).exit_code == 0
    data = (folder(mpi, SEED) / "release.docx").read_bytes()
    document = docx.Document(io.BytesIO(data))
    contact = next(p for p in document.paragraphs if p.text.startswith("Pressestelle"))
    assert contact.text == (
        "Pressestelle\nSenatsverwaltung für Wirtschaft, Energie und Betriebe\nE-Mail: pressestelle@senweb.berlin.de"
    )
    assert [(link.text, link.address) for link in contact.hyperlinks] == [
        ("pressestelle@senweb.berlin.de", "mailto:pressestelle@senweb.berlin.de")
    ]
    text = docx_text(data)
    assert "(mailto:" not in text and "(https:" not in text
    assert not [line for line in text.splitlines() if line != line.lstrip()]
    # Every link of the release (as the print HTML has them) is a link in the Word file.
    page = (folder(mpi, SEED) / "release.html").read_text(encoding="utf-8")
    targets = [html.unescape(href) for href in re.findall(r'<a href="([^"]+)"', page)]
    assert len(targets) == 4
    assert hyperlinks(data) == targets
    # A link in the text: its words in the text, its address in the link only.
    link = next(link for p in document.paragraphs for link in p.hyperlinks if link.text == "Monitoring-Bericht")
    assert link.address == "https://www.berlin.de/industriestadt/bericht/"
    assert "Mehr im Monitoring-Bericht." in text


def test_word_file_is_in_one_font_with_page_numbers_and_the_release_date(run, mpi):
    set_font(mpi, "Verdana")
    assert press(run, mpi, KONFERENZ).exit_code == 0
    data = (folder(mpi, KONFERENZ) / "release.docx").read_bytes()
    for name in ("word/styles.xml", "word/numbering.xml"):
        fonts = list(part(data, name).iter(f"{W}rFonts"))
        assert fonts, name
        for element in fonts:
            assert not [a for a in THEME_ATTRIBUTES if f"{W}{a}" in element.attrib], name  # the theme would win
            assert {element.get(f"{W}{a}") for a in ("ascii", "hAnsi", "eastAsia", "cs")} == {"Verdana"}, name
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert "word/stylesWithEffects.xml" not in package.namelist()  # the template's styles in Calibri
    footer = part(data, "word/footer1.xml")
    assert [code.text for code in footer.iter(f"{W}instrText")] == [" PAGE ", " NUMPAGES "]
    assert "".join(t.text for t in footer.iter(f"{W}t")) == (
        "Masterplan Industriestadt Berlin · Presse-Rückblick vom 29.11.2023 · Seite 1 von 1"
    )
    document = docx.Document(io.BytesIO(data))
    core = document.core_properties
    assert (core.title, core.author, core.language) == (
        "MPI Konferenz: Circular Economy als Chance für die Berliner Industrie",
        "Masterplan Industriestadt Berlin",
        "de-DE",
    )
    assert core.created == core.modified == datetime(2023, 11, 28, 23, 0, tzinfo=UTC)  # 29.11.2023 00:00 in Berlin
    assert core.comments == ""  # not "generated by python-docx"
    styles = document.styles
    for name in ("Title", "Subtitle", "Heading 1", "Heading 2"):
        assert styles[name].paragraph_format.keep_with_next, name
    assert styles["Normal"].paragraph_format.widow_control
    # Each list item keeps with the next but the last: a list is never cut before its last item.
    lists, current = [], []
    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("List"):
            current.append(paragraph.paragraph_format.keep_with_next)
        elif current:
            lists, current = [*lists, current], []
    assert len(lists) == 2
    assert all(found == [True] * (len(found) - 1) + [None] for found in lists)


def test_the_same_release_gives_the_same_word_file(run, mpi):
    assert press(run, mpi, KONFERENZ).exit_code == 0
    first = (folder(mpi, KONFERENZ) / "release.docx").read_bytes()
    assert run(mpi, "--now", "2024-03-02 11:00", "press", "build", KONFERENZ).exit_code == 0
    assert (folder(mpi, KONFERENZ) / "release.docx").read_bytes() == first
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {member.date_time for member in package.infolist()} == {(2023, 11, 29, 0, 0, 0)}


def test_a_font_that_is_no_name_is_refused(run, mpi):
    set_font(mpi, "")
    result = run(mpi, *NOW, "press", "build", KONFERENZ)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "press.font" in result.output
    assert not (mpi / "build" / "press").exists()


def test_words_template_without_a_macro_commsflow_needs(run, mpi):
    words = mpi / "templates" / "press" / "words.md"
    words.write_text(words.read_text(encoding="utf-8").replace("macro betreff(", "macro subject("), encoding="utf-8")
    result = run(mpi, *NOW, "press", "build", KONFERENZ)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"{words}: the template has no macro 'betreff'" in " ".join(result.stderr.split())
    assert not (mpi / "build" / "press").exists()


# --- golden XML parts ---------------------------------------------------------------------------

PARTS = ("word/document.xml", "word/footer1.xml", "word/_rels/document.xml.rels", "docProps/core.xml")
CASES = {"konferenz-recap": (KONFERENZ, None), "meet-up-invitation": (MEETUP, speakers_and_embargo)}


def pretty(data: bytes) -> str:
    root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def used_styles(data: bytes) -> str:
    """styles.xml cut to what the release uses: the defaults and each style the document and
    footer name, with the styles these are based on (the template's other 150 do not vary)."""
    styles = part(data, "word/styles.xml")
    by_id = {style.get(f"{W}styleId"): style for style in styles.iter(f"{W}style")}
    wanted = {"Normal"}
    for name in ("word/document.xml", "word/footer1.xml"):
        for element in part(data, name).iter(f"{W}pStyle", f"{W}rStyle"):
            wanted.add(element.get(f"{W}val"))
    for style_id in list(wanted):
        while (based := by_id[style_id].find(f"{W}basedOn")) is not None:
            style_id = based.get(f"{W}val")
            wanted.add(style_id)
    for style in list(styles):
        if style.tag == f"{W}latentStyles" or (style.tag == f"{W}style" and style.get(f"{W}styleId") not in wanted):
            styles.remove(style)
    return pretty(etree.tostring(styles))


def golden_parts(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        found = {name: pretty(package.read(name)) for name in PARTS}
    found["word/styles.xml"] = used_styles(data)
    return found


@pytest.mark.parametrize("case", sorted(CASES))
def test_word_xml_matches_golden_files(run, mpi, case):
    slug, prepare = CASES[case]
    if prepare:
        prepare(mpi)
    assert press(run, mpi, slug).exit_code == 0
    found = golden_parts((folder(mpi, slug) / "release.docx").read_bytes())
    for name, text in found.items():
        golden = GOLDEN / case / name.replace("/", "--")
        if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        assert text == golden.read_text(encoding="utf-8"), f"{case}: {name} differs from {golden}"


# --- seen as a PDF -------------------------------------------------------------------------------


def _soffice() -> str | None:
    override = os.environ.get("COMMSFLOW_SOFFICE")
    if override:
        return shutil.which(override)
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx_files: list[Path], target: Path) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """LibreOffice's PDFs of ``docx_files``: by file stem, the text of each page and the fonts."""
    pypdf = pytest.importorskip("pypdf", reason="pypdf not importable (pip install -e '.[test]')")
    soffice = _soffice()
    if soffice is None:
        pytest.skip("LibreOffice not found (install Debian's libreoffice-writer-nogui, or set COMMSFLOW_SOFFICE)")
    profile = target / "profile"  # its own profile: no clash with a LibreOffice the user has open
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", "pdf"]
        + ["--outdir", str(target), *map(str, docx_files)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pages, fonts = {}, {}
    for source in docx_files:
        reader = pypdf.PdfReader(target / f"{source.stem}.pdf")
        pages[source.stem] = [" ".join(page.extract_text().split()) for page in reader.pages]
        fonts[source.stem] = {
            str(font.get_object()["/BaseFont"]).split("+")[-1]
            for page in reader.pages
            for font in page["/Resources"]["/Font"].values()
        }
    return pages, fonts


@pytest.mark.slow
def test_word_file_in_libreoffice(run, mpi, tmp_path):
    speakers_and_embargo(mpi)
    assert press(run, mpi, SEED, KONFERENZ, MEETUP).exit_code == 0
    copies = []
    for slug in (SEED, KONFERENZ, MEETUP):
        copies.append(tmp_path / f"{slug}.docx")
        shutil.copyfile(folder(mpi, slug) / "release.docx", copies[-1])
    documents = {path.stem: docx.Document(path) for path in copies}
    pages, fonts = to_pdf(copies, tmp_path)
    for slug, texts in pages.items():
        # Page numbers: „Seite n von N“ on every page, N the real page count.
        assert len(texts) >= 1
        for number, text in enumerate(texts, 1):
            assert text.endswith(f"Seite {number} von {len(texts)}"), (slug, number, text[-80:])
        # One font family (Arial, or the font LibreOffice puts in its place), bold and italic of it.
        families = {re.sub(r"-(Bold|Italic|BoldItalic|Oblique|BoldOblique)$", "", name) for name in fonts[slug]}
        assert len(families) == 1, (slug, fonts[slug])
        # No list item alone at the top of a page: of each list, a page has none or at least two items.
        items: list[list[str]] = [[]]
        for paragraph in documents[slug].paragraphs:
            if paragraph.style.name.startswith("List"):
                items[-1].append(" ".join(paragraph.text.split()))
            elif items[-1]:
                items.append([])
        for found in filter(None, items):
            on_page = [next(i for i, text in enumerate(texts) if item[:40] in text) for item in found]
            for page in set(on_page) - {on_page[0]}:
                assert on_page.count(page) >= 2 or len(found) == 1, (slug, found, on_page)
    if fonts[KONFERENZ] & {"LiberationSans", "ArialMT", "Arial"}:  # Arial's widths (fonts-liberation2)
        # The case of issue 17: the last bullet of „Die Veranstaltung“ used to open page 2 alone.
        assert len(pages[KONFERENZ]) == 2
        assert pages[KONFERENZ][1].startswith("Die Veranstaltung • Datum: Dienstag, 28. November 2023")
