"""The release pack: a tagged PDF, the text version in the agencies' wire style, press photos
with their credits (printed and written into the files), the zip for the press list, and
the lint's formal-address and date checks over every form.

The PDF tests read the file back with pypdf and skip, saying why, where WeasyPrint cannot
run (no Pango); the build itself then warns once and writes the other forms.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import docx
import pytest
from conftest import FIXTURES
from PIL import Image, IptcImagePlugin

from commsflow.renderers import press as renderer

NOW = ("--now", "2024-03-01 10:00")
SEED = "2023-10-18-neue-website-und-veranstaltungen"
KONFERENZ = "mpi-konferenz-circular-economy-2023"
WERKSTATT = "werkstatt-2024"
GOLDEN = FIXTURES / "press-pack"
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
    "Iptc4xmpCore": "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/",
}
CREDIT = "Erika Muster / Agentur Beispiel"
TERMS = "Abdruck honorarfrei bei Nennung der Quelle"
ALT = "Gäste im Gespräch vor einer Wand aus recycelten Ziegeln"
CAPTION = "Das Werkstattgespräch im Impact Hub"


def press(run, root: Path, *args: str):
    return run(root, *NOW, "press", "build", *args)


def folder(root: Path, slug: str) -> Path:
    return root / "build" / "press" / slug


def weasyprint_or_skip():
    pytest.importorskip("pypdf", reason="pypdf reads the PDF back (pip install -e '.[test]')")
    found = renderer._weasyprint()
    if isinstance(found, renderer.PdfUnavailable):
        pytest.skip(f"WeasyPrint cannot run here: {found.message} — {found.hint}")


def write_photos(root: Path) -> None:
    """A JPEG with Exif and an old XMP packet, and a PNG, next to an event with press photos."""
    events = root / "content" / "events"
    exif = Image.Exif()
    exif[0x010F] = "Kamera GmbH"  # Make
    old = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><!-- written by the camera --></x:xmpmeta>'
    picture = Image.new("RGB", (800, 600), (200, 30, 30))
    picture.paste((20, 120, 40), (100, 100, 400, 300))
    picture.save(events / "halle.jpg", "JPEG", quality=90, exif=exif.tobytes(), xmp=old)
    Image.new("RGBA", (300, 200), (0, 100, 200, 128)).save(events / "Grafik Zahlen.png")
    (events / f"{WERKSTATT}.md").write_text(
        f"""---
title: Werkstattgespräch Kreislaufwirtschaft
status: approved
format: Workshop
start: 2024-05-02 10:00
end: 2024-05-02 12:00
organiser: mpi
venue: {{name: Impact Hub, city: Berlin}}
embargo: 2024-05-03 09:00
press:
  kind: recap
  date: 2024-05-03
  lead: Rund 40 Gäste sprachen im Impact Hub über zirkuläres Bauen.
  photos:
    - src: halle.jpg
      alt: {ALT}
      caption: {CAPTION}
      credit: {CREDIT}
      terms: {TERMS}
    - src: Grafik Zahlen.png
      alt: Balkendiagramm der Teilnehmenden nach Branche
      credit: "Grafik: MPI"
---

Ein Satz zur Veranstaltung.
""",
        encoding="utf-8",
    )


def xmp_of(packet: bytes | str) -> ET.Element:
    data = packet.encode("utf-8") if isinstance(packet, str) else packet
    return ET.fromstring(data[data.index(b"<x:xmpmeta") : data.rindex(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")])


def xmp_value(root: ET.Element, path: str) -> str:
    found = root.find(f".//rdf:Description/{path}", NS)
    assert found is not None, path
    return "".join(found.itertext()).strip()


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("COMMSFLOW_REGENERATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- the text version ---------------------------------------------------------------------------


@pytest.mark.parametrize("slug", [SEED, KONFERENZ])
def test_text_version_matches_golden_file(run, mpi, slug):
    assert press(run, mpi, slug).exit_code == 0
    golden(f"{slug}.txt", (folder(mpi, slug) / "release.txt").read_text(encoding="utf-8"))


def test_text_version_of_a_release_with_embargo_and_photos_matches_golden_file(run, mpi):
    write_photos(mpi)
    result = press(run, mpi, WERKSTATT)
    assert result.exit_code == 0, result.output
    golden(f"{WERKSTATT}.txt", (folder(mpi, WERKSTATT) / "release.txt").read_text(encoding="utf-8"))


def test_text_version_is_in_wire_style(run, mpi):
    assert press(run, mpi, SEED).exit_code == 0
    text = (folder(mpi, SEED) / "release.txt").read_text(encoding="utf-8")
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "Pressemitteilung"
    assert paragraphs[1] == "Masterplan Industriestadt Berlin: Neue Website und Veranstaltungen"
    assert paragraphs[2].startswith("Berlin, 18. Oktober 2023. Der Masterplan Industriestadt Berlin (MPI) stärkt")
    assert "\n" not in paragraphs[2]  # one line a paragraph: the agencies' systems break lines
    assert "Mitwirken im MPI-Netzwerk\n\nAuf der Website" in text  # a heading as a line, not underlined
    assert not re.search(r"^[-=]{3,}$", text, re.MULTILINE)
    assert text.endswith(
        "Pressekontakt:\nPressestelle\nSenatsverwaltung für Wirtschaft, Energie und Betriebe\n"
        "E-Mail: pressestelle@senweb.berlin.de\n"
    )
    assert "**" not in text and "<" not in text  # no markup


def test_a_text_version_over_the_limit_is_a_warning_with_count_and_limit(run, mpi):
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('place = "Berlin"', 'place = "Berlin"\nmax_characters = 1000'),
        encoding="utf-8",
    )
    result = press(run, mpi, SEED)
    assert result.exit_code == 0, result.output  # a warning: the release is written
    count = len((folder(mpi, SEED) / "release.txt").read_text(encoding="utf-8"))
    assert count > 1000
    flat = " ".join(result.output.split())
    assert (
        f"content/posts/{SEED}.md: press: the text version has {count} characters, more than the 1000 of "
        "[press] max_characters — shorten the text"
    ) in flat


def test_the_default_limit_leaves_the_seed_release_alone(run, mpi):
    result = press(run, mpi, SEED)
    assert "max_characters" not in result.output
    assert len((folder(mpi, SEED) / "release.txt").read_text(encoding="utf-8")) < 5000


# --- the PDF --------------------------------------------------------------------------------------


def structure(reader) -> list[tuple[str, str | None]]:
    """(type, alt text) of every element of the PDF's structure tree, in its order."""
    found = []

    def walk(node):
        node = node.get_object()
        if not isinstance(node, dict):
            return
        if "/S" in node:
            found.append((str(node["/S"]), node.get("/Alt")))
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object() if hasattr(kid, "get_object") else kid
            if isinstance(kid, dict):
                walk(kid)

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return found


def test_pdf_is_tagged_german_titled_and_reads_in_order(run, mpi):
    weasyprint_or_skip()
    from pypdf import PdfReader

    assert press(run, mpi, SEED).exit_code == 0
    reader = PdfReader(folder(mpi, SEED) / "release.pdf")
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "de-DE"
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])  # viewers show the title, not the file name
    assert (
        reader.metadata.title == "Masterplan Industriestadt Berlin: Neue Website und Veranstaltungen – Pressemitteilung"
    )
    assert reader.metadata.author == "Masterplan Industriestadt Berlin"
    assert reader.metadata["/CreationDate"].startswith("D:20231018")  # the release's date, not the build's
    kinds = [kind for kind, _alt in structure(reader)]
    headings = [kind for kind in kinds if re.fullmatch(r"/H\d", kind)]
    assert headings[0] == "/H1" and kinds.count("/H1") == 1
    levels = [int(kind[2:]) for kind in headings]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))  # no level skipped (PDF/UA)
    assert "/P" in kinds and "/Link" in kinds  # paragraphs; the addresses are links
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    order = [
        "Pressemitteilung",
        "Masterplan Industriestadt Berlin: Neue Website und Veranstaltungen",
        "Berlin, 18. Oktober 2023 – Der Masterplan Industriestadt Berlin (MPI) stärkt",
        "„Berlin soll ein zukunftsfähiger Produktionsstandort bleiben",
        "Mitwirken im MPI-Netzwerk",
        "Der MPI: Industrielle Stärken Berlins sichtbar machen",
        "Pressekontakt",
        "E-Mail: pressestelle@senweb.berlin.de",
    ]
    positions = [text.find(part) for part in order]
    assert -1 not in positions, list(zip(order, positions, strict=True))
    assert positions == sorted(positions)
    assert "Seite 1 von" in text  # the footer of the Word file, on every page


def test_pdf_shows_the_photos_with_their_alt_texts_and_credits(run, mpi):
    weasyprint_or_skip()
    from pypdf import PdfReader

    write_photos(mpi)
    assert press(run, mpi, WERKSTATT).exit_code == 0
    reader = PdfReader(folder(mpi, WERKSTATT) / "release.pdf")
    figures = [alt for kind, alt in structure(reader) if kind == "/Figure"]
    assert figures == [ALT, "Balkendiagramm der Teilnehmenden nach Branche"]
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Sperrfrist: 3. Mai 2024, 09:00 Uhr" in text
    assert f"{CAPTION} Foto: {CREDIT} {TERMS}" in text
    assert "Grafik: MPI" in text and "Foto: Grafik" not in text


@pytest.fixture(params=["no Pango", "not installed"])
def no_weasyprint(request, monkeypatch):
    """WeasyPrint that cannot load, as on a machine without Pango (WeasyPrint prints its own
    advice while failing), or that is not installed at all."""
    renderer._weasyprint.cache_clear()
    if request.param == "not installed":
        monkeypatch.setitem(sys.modules, "weasyprint", None)
    else:
        real = importlib.import_module

        def without_pango(name, *args, **kwargs):
            if name == "weasyprint":
                print("WeasyPrint could not import some external libraries.")
                raise OSError("cannot load library 'libpango-1.0-0': cannot open shared object file")
            return real(name, *args, **kwargs)

        monkeypatch.setattr(renderer.importlib, "import_module", without_pango)
    yield request.param
    renderer._weasyprint.cache_clear()


def test_without_weasyprint_the_build_warns_once_and_writes_the_rest(run, mpi, no_weasyprint):
    result = press(run, mpi)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "could not import some external libraries" not in result.output  # WeasyPrint's own print
    flat = " ".join(result.output.split())
    said = (
        "WeasyPrint cannot load Pango (cannot load library 'libpango-1.0-0'"
        if no_weasyprint == "no Pango"
        else "WeasyPrint is not installed"
    )
    assert flat.count(f"build/press: no PDF of the releases: {said}") == 1  # two releases, one warning
    assert "apt install libpango-1.0-0" in flat
    for slug in (SEED, KONFERENZ):
        names = {path.name for path in folder(mpi, slug).iterdir()}
        assert names == {"release.md", "release.html", "release.txt", "release.docx", f"{slug}.zip"}
        with zipfile.ZipFile(folder(mpi, slug) / f"{slug}.zip") as pack:
            assert "release.pdf" not in {Path(name).name for name in pack.namelist()}


def test_the_pdf_does_not_change_what_is_signed_off(run, mpi, tmp_path, monkeypatch):
    """A sign-off binds the payload's digest; the PDF is laid out with the machine's fonts (and
    is missing where WeasyPrint cannot run), so it is left out of the digest, as the zip that
    holds it is — the text, the HTML it is made from and the photos are in it."""
    other = tmp_path / "ohne-pdf"
    shutil.copytree(mpi, other)
    assert run(mpi, *NOW, "build").exit_code == 0
    renderer._weasyprint.cache_clear()
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    try:
        result = run(other, *NOW, "build")
    finally:
        renderer._weasyprint.cache_clear()
    assert result.exit_code == 0, result.output
    # four press renditions, one warning
    assert " ".join(result.output.split()).count("no PDF of the releases: WeasyPrint is not installed") == 1
    assert not list((other / "build" / "press").glob("*/release.pdf"))

    def digests(root: Path) -> dict:
        jobs = json.loads((root / "build" / "jobs.json").read_text(encoding="utf-8"))
        return {job["job"]: job["digest"] for job in jobs if job["channel"] == "press"}

    assert digests(mpi) and digests(mpi) == digests(other)


# --- photos ---------------------------------------------------------------------------------------


class _Photos(HTMLParser):
    """The print HTML's images and the paragraph after each."""

    def __init__(self):
        super().__init__()
        self.images, self.after, self.inside = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
            self.inside = "image"
        elif tag == "p" and self.inside == "image-done":
            self.inside = "caption"
            self.after.append("")

    def handle_endtag(self, tag):
        if tag == "p" and self.inside == "image":
            self.inside = "image-done"
        elif tag == "p" and self.inside == "caption":
            self.inside = None

    def handle_data(self, data):
        if self.inside == "caption":
            self.after[-1] += data


def test_photos_are_printed_with_caption_credit_and_terms_in_every_form(run, mpi):
    write_photos(mpi)
    result = press(run, mpi, WERKSTATT)
    assert result.exit_code == 0, result.output
    pack = folder(mpi, WERKSTATT)
    page = _Photos()
    page.feed((pack / "release.html").read_text(encoding="utf-8"))
    assert [(image["src"], image["alt"]) for image in page.images] == [
        ("halle.jpg", ALT),
        ("grafik-zahlen.png", "Balkendiagramm der Teilnehmenden nach Branche"),
    ]
    assert [" ".join(caption.split()) for caption in page.after] == [f"{CAPTION} Foto: {CREDIT} {TERMS}", "Grafik: MPI"]

    document = docx.Document(pack / "release.docx")
    assert [shape._inline.docPr.get("descr") for shape in document.inline_shapes] == [
        ALT,
        "Balkendiagramm der Teilnehmenden nach Branche",
    ]
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert f"{CAPTION}\nFoto: {CREDIT}\n{TERMS}" in texts
    picture = next(p for p in document.paragraphs if p._p.xpath(".//pic:pic"))
    assert picture.paragraph_format.keep_with_next  # the caption stays on the photo's page

    text = (pack / "release.txt").read_text(encoding="utf-8")
    assert f"Fotos:\nhalle.jpg: {CAPTION}\nFoto: {CREDIT}. {TERMS}\n\ngrafik-zahlen.png\nGrafik: MPI\n" in text
    assert f"![{ALT}](halle.jpg)" in (pack / "release.md").read_text(encoding="utf-8")


def test_photo_files_carry_creator_copyright_caption_and_terms(run, mpi):
    write_photos(mpi)
    assert press(run, mpi, WERKSTATT).exit_code == 0
    source = mpi / "content" / "events" / "halle.jpg"
    written = folder(mpi, WERKSTATT) / "halle.jpg"
    with Image.open(written) as photo, Image.open(source) as original:
        assert photo.tobytes() == original.tobytes()  # the picture is not encoded again
        assert photo.getexif()[0x010F] == "Kamera GmbH"  # the camera's Exif stays
        packet = photo.info["xmp"]
        iptc = IptcImagePlugin.getiptcinfo(photo)
    assert b"written by the camera" not in packet  # one XMP packet: ours
    xmp = xmp_of(packet)
    assert xmp_value(xmp, "dc:creator") == "Erika Muster"
    assert xmp_value(xmp, "dc:rights") == f"© {CREDIT}"
    assert xmp_value(xmp, "dc:description") == CAPTION
    assert xmp_value(xmp, "photoshop:Credit") == CREDIT
    assert xmp_value(xmp, "xmpRights:UsageTerms") == TERMS
    assert xmp_value(xmp, "Iptc4xmpCore:AltTextAccessibility") == ALT
    assert iptc[(1, 90)] == b"\x1b%G"  # the IIM record says UTF-8
    assert iptc[(2, 80)].decode() == "Erika Muster"
    assert iptc[(2, 110)].decode() == CREDIT
    assert iptc[(2, 116)].decode() == f"© {CREDIT}"
    assert iptc[(2, 120)].decode() == CAPTION
    assert iptc[(2, 40)].decode() == TERMS

    with Image.open(folder(mpi, WERKSTATT) / "grafik-zahlen.png") as graphic:
        graphic.load()
        xmp = xmp_of(graphic.info["XML:com.adobe.xmp"])
    assert xmp_value(xmp, "dc:creator") == "Grafik: MPI"
    assert xmp_value(xmp, "dc:description") == "Balkendiagramm der Teilnehmenden nach Branche"  # no caption: alt
    assert xmp.find(".//xmpRights:UsageTerms", NS) is None  # none given, none configured


def test_photo_terms_default_to_the_configured_ones(run, mpi):
    write_photos(mpi)
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'place = "Berlin"', 'place = "Berlin"\nphoto_terms = "Nur für die Berichterstattung über den MPI"'
        ),
        encoding="utf-8",
    )
    assert press(run, mpi, WERKSTATT).exit_code == 0
    text = (folder(mpi, WERKSTATT) / "release.txt").read_text(encoding="utf-8")
    assert f"Foto: {CREDIT}. {TERMS}" in text  # the photo's own
    assert "Grafik: MPI. Nur für die Berichterstattung über den MPI" in text  # the configured ones


def test_the_zip_holds_every_form_and_the_photos_as_written(run, mpi):
    write_photos(mpi)
    assert press(run, mpi, WERKSTATT).exit_code == 0
    pack = folder(mpi, WERKSTATT)
    files = {path.name: path.read_bytes() for path in pack.iterdir() if path.suffix != ".zip"}
    assert {"release.md", "release.html", "release.txt", "release.docx", "halle.jpg", "grafik-zahlen.png"} <= set(files)
    with zipfile.ZipFile(pack / f"{WERKSTATT}.zip") as archive:
        assert archive.testzip() is None
        inside = {name: archive.read(name) for name in archive.namelist()}
        assert {info.date_time[:3] for info in archive.infolist()} == {(2024, 5, 3)}  # the release's date
    assert inside == {f"{WERKSTATT}/{name}": data for name, data in files.items()}


def test_a_photo_replaced_under_its_name_is_built_again(run, mpi):
    write_photos(mpi)
    item = mpi / "content" / "events" / f"{WERKSTATT}.md"  # no embargo: the newsletter issue shows it
    item.write_text(item.read_text(encoding="utf-8").replace("embargo: 2024-05-03 09:00\n", ""), encoding="utf-8")
    assert run(mpi, *NOW, "build").exit_code == 0
    built = mpi / "build" / "press" / f"{WERKSTATT}--recap" / "halle.jpg"
    with Image.open(built) as photo:
        assert photo.getpixel((10, 10))[0] > 150  # red
    Image.new("RGB", (800, 600), (30, 30, 200)).save(mpi / "content" / "events" / "halle.jpg", "JPEG")
    assert run(mpi, *NOW, "build").exit_code == 0
    with Image.open(built) as photo:
        assert photo.getpixel((10, 10))[2] > 150  # blue: the photo is among what the release is made of


def test_a_missing_photo_is_an_error_naming_the_field_and_nothing_is_written(run, mpi):
    write_photos(mpi)
    item = mpi / "content" / "events" / f"{WERKSTATT}.md"
    item.write_text(item.read_text(encoding="utf-8").replace("src: halle.jpg", "src: fehlt.jpg"), encoding="utf-8")
    result = press(run, mpi, WERKSTATT, SEED)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    flat = " ".join(result.output.split())
    assert f"content/events/{WERKSTATT}.md:15: press.photos[0].src: image 'fehlt.jpg' not found" in flat
    assert "put the file next to the Markdown file" in flat
    assert not (mpi / "build" / "press").exists()  # not the other release either


def test_a_webp_photo_goes_in_unchanged_with_a_warning(run, mpi):
    write_photos(mpi)
    events = mpi / "content" / "events"
    Image.new("RGB", (64, 48), "green").save(events / "blick.webp", "WEBP")
    item = events / f"{WERKSTATT}.md"
    item.write_text(item.read_text(encoding="utf-8").replace("src: halle.jpg", "src: blick.webp"), encoding="utf-8")
    result = press(run, mpi, WERKSTATT)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert (
        "press.photos[0].src: photo 'blick.webp': caption and credit can only be written into JPEG and PNG files"
    ) in flat
    assert (folder(mpi, WERKSTATT) / "blick.webp").read_bytes() == (events / "blick.webp").read_bytes()
    assert docx.Document(folder(mpi, WERKSTATT) / "release.docx").inline_shapes[0]._inline.docPr.get("descr") == ALT


# --- the lint over every form ---------------------------------------------------------------------


def test_lint_checks_formal_address_and_dates_in_every_form(run, mpi):
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "Potenziale verstärken.", "Potenziale verstärken. Am Dienstag, 28. März 2024 freuen wir uns auf dich."
        ),
        encoding="utf-8",
    )
    template = mpi / "templates" / "press" / "release.txt"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "Pressekontakt:\n", "Pressekontakt (schreib uns am 2024-03-28):\n"
        ),
        encoding="utf-8",
    )
    result = press(run, mpi, SEED)
    assert result.exit_code == 0, result.output  # warnings
    flat = " ".join(result.output.split())
    path = f"content/posts/{SEED}.md"
    forms = "release.md, release.html, release.txt, release.docx"
    if (folder(mpi, SEED) / "release.pdf").exists():
        forms += ", release.pdf"
    assert (f"{path}: release: informal address 'dich' in {forms}: \"…28. März 2024 freuen wir uns auf dich.\"") in flat
    assert (
        f"{path}: release: „Dienstag, 28. März 2024“ in {forms}: the 28.03.2024 is a Thursday "
        "— correct the weekday or the date"
    ) in flat
    assert f"{path}: release: „2024-03-28“ in release.txt is not written the way German readers write a date" in flat
    assert "informal address 'schreib'" not in flat  # only the pronouns count, as in the item's own check


def test_informal_address_in_the_item_is_reported_at_its_line_not_again_for_every_form(run, mpi):
    item = mpi / "content" / "posts" / f"{SEED}.md"
    item.write_text(
        item.read_text(encoding="utf-8").replace(
            "## Mitwirken im MPI-Netzwerk", "Wir zählen auf dich und deine Ideen.\n\n## Mitwirken im MPI-Netzwerk"
        ),
        encoding="utf-8",
    )
    result = run(mpi, *NOW, "lint")
    flat = " ".join(result.output.split())
    assert re.search(rf"content/posts/{SEED}\.md:\d+: body: informal address 'dich'", flat)
    assert "release: informal address 'dich'" not in flat


def test_lint_reports_what_the_press_jobs_forms_say(run, mpi):
    """The findings come with the press channel's renditions, as build and lint render them."""
    config = mpi / "commsflow.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "Potenziale verstärken.", "Potenziale verstärken, wie euch bekannt ist."
        ),
        encoding="utf-8",
    )
    result = run(mpi, *NOW, "lint")
    flat = " ".join(result.output.split())
    for item in ("events/mpi-meet-up-2024.md", f"posts/{SEED}.md"):
        assert f"content/{item}: release: informal address 'euch' in release.md, release.html" in flat


def test_the_photos_module_keeps_jpeg_segments_in_order():
    """JFIF and Exif lead, the new XMP and IPTC follow them, the picture's tables after."""
    from commsflow.renderers import press_photos

    picture = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Kamera GmbH"
    Image.new("RGB", (16, 16), "white").save(picture, "JPEG", exif=exif.tobytes())
    data = press_photos.jpeg_with_metadata(picture.getvalue(), b"<x:xmpmeta/>", b"\x1c\x02\x50\x00\x01A")
    segments, at = [], 2
    while data[at] == 0xFF and data[at + 1] != 0xDA:
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segments.append((data[at + 1], data[at + 4 : at + 2 + length]))
        at += 2 + length
    assert [marker for marker, _payload in segments[:4]] == [0xE0, 0xE1, 0xE1, 0xED]  # JFIF, Exif, XMP, IPTC
    assert segments[1][1].startswith(b"Exif\x00\x00")
    assert segments[2][1] == b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
    assert segments[3][1].startswith(b"Photoshop 3.0\x008BIM\x04\x04")
    again = press_photos.jpeg_with_metadata(data, b"<x:xmpmeta/>", b"\x1c\x02\x50\x00\x01A")
    assert again == data  # written twice: still one XMP and one IPTC record
