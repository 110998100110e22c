"""``commsflow lint``: editorial and accessibility checks, one test per check.

Each test writes a small item (or campaign change, or HTML file) into a copy of the
MPI 2024 fixture project (the ``mpi`` fixture) and asserts the exact message with its
file, line and field. Lint reads the plan (``open_plan``); the renderers' own checks come
from the plan's renditions. The fixture's content itself is lint-clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from commsflow.errors import Severity
from commsflow.lint import lint
from commsflow.plan import open_plan
from commsflow.renderers import newsletter as newsletter_renderer
from commsflow.workspace import Workspace

NOW = "2024-03-01 10:00"
FORMAL = "address readers formally (Sie, Ihnen, Ihr); quoted speech in „…“ is not checked"
VAGUE = (
    "let the link text name where it leads, e.g. „Programm des MPI Meet-ups“ instead of „hier“: "
    "screen readers list links on their own"
)
LANG = (
    'add lang="de" to the <html> tag of the template that writes it: screen readers choose their '
    "pronunciation by it (BITV 2.0)"
)
SITE = "https://www.berlin.de/industriestadt"


def findings(root: Path, now: str = NOW) -> list[str]:
    """Every finding as one printed line (severity, location, field, message, hint)."""
    plan = open_plan(Workspace(root=root, now_text=now))
    return [f"{p.severity.value} {p.format()}" for p in lint(plan)]


def write(root: Path, folder: str, slug: str, front: str, body: str = "Text.\n") -> str:
    path = root / "content" / folder / f"{slug}.md"
    path.write_text(f"---\n{front.strip()}\n---\n\n{body}", encoding="utf-8")
    return f"content/{folder}/{slug}.md"


def line_of(root: Path, shown: str, text: str, occurrence: int = 1) -> int:
    """The line number of the ``occurrence``-th line containing ``text``."""
    lines = (root / shown).read_text(encoding="utf-8").splitlines()
    return [number for number, line in enumerate(lines, 1) if text in line][occurrence - 1]


def items(root: Path) -> int:
    return len(list((root / "content").rglob("*.md")))


def post(title: str = "Ein Beitrag zum Test", extra: str = "") -> str:
    return (
        f"title: {title}\nstatus: approved\ncategory: Aktuelles\ndate: 2024-02-15\n"
        f"summary: Eine kurze Zusammenfassung.\n{extra}"
    )


# --- the shipped content -------------------------------------------------------------------------


@pytest.mark.parametrize("now", [NOW, "2023-10-01 10:00", "2024-04-25 17:00", "2024-07-11 09:00"])
def test_shipped_content_is_lint_clean(mpi, now):
    assert findings(mpi, now) == []


def test_lint_command_on_the_shipped_content(run, mpi):
    result = run(mpi, "--now", NOW, "lint", "--strict")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"✓ {items(mpi)} items, 5 campaigns and 0 generated HTML files linted: 0 errors, 0 warnings\n"
    )


def test_built_outputs_of_the_shipped_content_are_lint_clean(run, mpi):
    for command in (
        ("newsletter", "build", "newsletter-2023-2"),
        ("newsletter", "build", "newsletter-2024-1"),
        ("press", "build"),
    ):
        assert run(mpi, "--now", NOW, *command).exit_code == 0
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 0, result.output
    # email.html and web.html of each issue, the archive page, two press releases
    assert re.search(r"and (\d+) generated HTML files linted: 0 errors, 0 warnings", result.stdout)[1] == "7"


def test_lint_writes_nothing(mpi):
    before = sorted(path for path in mpi.rglob("*") if ".commsflow" not in path.parts)
    findings(mpi)
    assert sorted(path for path in mpi.rglob("*") if ".commsflow" not in path.parts) == before


def test_kept_findings_follow_each_edit_and_equal_a_fresh_lint(run, mpi):
    """Findings are kept per file between runs; an edited file is linted again, the rest are not."""
    first = run(mpi, "--now", NOW, "lint")
    assert (mpi / ".commsflow" / "cache" / "lint.json").is_file()
    post_file = mpi / "content" / "posts" / "2024-03-06-foerdercall-circular-economy-zweite-stufe.md"
    post_file.write_text(post_file.read_text(encoding="utf-8") + "\nBewirb dich jetzt, wir freuen uns auf dich!\n")
    kept = run(mpi, "--now", NOW, "lint")
    fresh = run(mpi, "--now", NOW, "--no-cache", "lint")
    assert "informal" in kept.stdout and kept.stdout != first.stdout
    assert kept.stdout == fresh.stdout and kept.exit_code == fresh.exit_code
    # A file removed and nothing else changed: its findings are no longer kept.
    post_file.unlink()
    run(mpi, "--now", NOW, "lint")
    stored = json.loads((mpi / ".commsflow" / "cache" / "lint.json").read_text(encoding="utf-8"))
    assert f"content/posts/{post_file.name}" not in stored["kept"] and len(stored["kept"]) > 10


# --- 1. images without alt text ------------------------------------------------------------------


def test_image_without_alt_text_in_a_body_is_an_error(run, mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-bild",
        post(),
        "Vorher.\n\n![](bilder/halle.jpg)\n\n![Fertigungshalle von außen](bilder/aussen.jpg)\n",
    )
    assert findings(mpi) == [
        f"error {shown}:{line_of(mpi, shown, '![](')}: body: image 'bilder/halle.jpg' has no alt text — describe "
        "the image: ![Beschreibung](bilder/halle.jpg) — screen readers read it out (BITV 2.0)",
    ]
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 1
    assert result.stdout.endswith("linted: 1 error, 0 warnings\n")


def test_generic_alt_text_is_a_warning(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-bild",
        post(extra="image:\n  src: halle.jpg\n  alt: Foto\n"),
        "![halle.jpg](https://www.berlin.de/industriestadt/halle.jpg)\n",
    )
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, 'alt: Foto')}: image.alt: alt text 'Foto' does not describe the "
        "image — say what the image shows, e.g. „Teilnehmende der MPI Konferenz im Impact Hub“",
        f"warning {shown}:{line_of(mpi, shown, '![halle.jpg]')}: body: alt text 'halle.jpg' does not describe the "
        "image 'https://www.berlin.de/industriestadt/halle.jpg' — say what the image shows",
    ]


def test_blank_alt_text_in_the_front_matter_is_a_content_error_lint_leaves_to_check(run, mpi):
    shown = write(mpi, "posts", "2024-02-15-bild", post(extra='image:\n  src: halle.jpg\n  alt: " "\n'))
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 1
    assert f"error {shown}:{line_of(mpi, shown, 'alt:')}: image.alt:" in result.stdout
    assert "1 error in the content" in result.stderr
    assert "fix them first (commsflow check) — lint reads only valid items" in result.stderr


def test_image_without_alt_text_in_a_campaign_intro(mpi):
    campaign = mpi / "campaigns" / "newsletter-2024-1.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace(
            "  Ihr Team des Masterplans",
            "  ![](https://www.berlin.de/industriestadt/team.jpg)\n\n  Ihr Team des Masterplans",
        ),
        encoding="utf-8",
    )
    shown = "campaigns/newsletter-2024-1.yaml"
    line = line_of(mpi, shown, "![](")
    found = [f for f in findings(mpi) if "team.jpg" in f]
    assert (
        f"error {shown}:{line}: intro: image 'https://www.berlin.de/industriestadt/team.jpg' has no alt text "
        "— describe the image: ![Beschreibung](https://www.berlin.de/industriestadt/team.jpg)" in found
    )


# --- 2. link texts without context ---------------------------------------------------------------


def test_link_texts_that_say_nothing_are_warnings(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-links",
        post(),
        (
            "Das Programm steht [hier](https://example.org/programm).\n\n"
            "[Mehr erfahren »](https://example.org/mehr) oder [Klicken Sie hier](https://example.org/anmelden)\n"
            "und [weiter](https://example.org/weiter).\n\n"
            "Gute Links: [Programm des MPI Meet-ups](https://example.org/programm), [hierzu](https://example.org/h),\n"
            "[Link zur Anmeldung](https://example.org/a) und <https://example.org/direkt>.\n"
            "[](https://example.org/leer)\n"
        ),
    )
    line = line_of(mpi, shown, "[hier]")
    assert findings(mpi) == [
        f"warning {shown}:{line}: body: link text 'hier' says nothing out of context (→ https://example.org/programm)"
        f" — {VAGUE}",
        f"warning {shown}:{line + 2}: body: link text 'Klicken Sie hier' says nothing out of context "
        f"(→ https://example.org/anmelden) — {VAGUE}",
        f"warning {shown}:{line + 2}: body: link text 'Mehr erfahren »' says nothing out of context "
        f"(→ https://example.org/mehr) — {VAGUE}",
        f"warning {shown}:{line + 3}: body: link text 'weiter' says nothing out of context "
        f"(→ https://example.org/weiter) — {VAGUE}",
        f"warning {shown}:{line + 7}: body: the link to https://example.org/leer has no text — write what the link "
        "leads to between the brackets: [Programm des MPI Meet-ups](…)",
    ]


def test_link_texts_in_campaign_intros_and_buttons(mpi):
    campaign = mpi / "campaigns" / "newsletter-2023-2.yaml"
    text = campaign.read_text(encoding="utf-8")
    text = text.replace(
        "  Ihr Team des Masterplans",
        "  Die Anmeldung finden Sie [hier](https://example.org/anmeldung).\n\n  Ihr Team des Masterplans",
    )
    text = text.replace("      text: Mehr zum Masterplan Industriestadt Berlin", "      text: Mehr")
    campaign.write_text(text, encoding="utf-8")
    shown = "campaigns/newsletter-2023-2.yaml"
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, '[hier]')}: intro: link text 'hier' says nothing out of context "
        f"(→ https://example.org/anmeldung) — {VAGUE}",
        f"warning {shown}:{line_of(mpi, shown, 'text: Mehr')}: sections[5].cta.text: link text 'Mehr' says nothing "
        f"out of context (→ {SITE}/masterplan-industriestadt-berlin/) — {VAGUE}",
    ]


# --- 3. heading levels ---------------------------------------------------------------------------


def test_heading_levels_that_skip_and_a_level_one_heading(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-ueberschriften",
        post(),
        (
            "### Erst Ebene drei\n\nText.\n\n## Zwei\n\n#### Vier nach zwei\n\n## Wieder zwei\n\n### Drei ist gut\n\n"
            "Hauptüberschrift\n================\n\nText.\n\n```\n# kein Heading, nur Code\n```\n\n"
            "### Drei nach eins\n"
        ),
    )
    warn = "screen reader users move through a page by its heading levels"
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, '### Erst')}: body: heading 'Erst Ebene drei' jumps from level 1 "
        f"(the title) to level 3 — use level 2 (## …): {warn}",
        f"warning {shown}:{line_of(mpi, shown, '#### Vier')}: body: heading 'Vier nach zwei' jumps from level 2 "
        f"to level 4 — use level 3 (### …): {warn}",
        f"warning {shown}:{line_of(mpi, shown, 'Hauptüberschrift')}: body: heading 'Hauptüberschrift' is level 1; "
        "the title is the page's only level-1 heading — start the body's headings at level 2 (## …)",
        f"warning {shown}:{line_of(mpi, shown, '### Drei nach eins')}: body: heading 'Drei nach eins' jumps from "
        f"level 1 to level 3 — use level 2 (## …): {warn}",
    ]


def test_a_body_that_starts_with_the_title_as_level_one_heading(mpi):
    shown = write(
        mpi,
        "news",
        "2024-02-15-titel",
        "title: Neuigkeit\nstatus: draft\ndate: 2024-02-15\nprojects: [amber-initiative]",
        "# Neuigkeit\n\nText.\n\n## Abschnitt\n",
    )
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, '# Neuigkeit')}: body: heading 'Neuigkeit' is level 1; the title is "
        "the page's only level-1 heading — start the body's headings at level 2 (## …)",
    ]


# --- 4. lang on generated HTML -------------------------------------------------------------------


def test_generated_html_without_lang_is_an_error(run, mpi):
    config = mpi / "commsflow.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('build = "build"', 'build = "out"'), encoding="utf-8")
    out = mpi / "out" / "newsletter"
    out.mkdir(parents=True)
    (out / "good.html").write_text('<!DOCTYPE html>\n<html lang="de">\n<body></body>\n</html>\n', encoding="utf-8")
    (out / "upper.html").write_text("<!DOCTYPE html><HTML LANG='de-DE'><body></body></HTML>", encoding="utf-8")
    (out / "bad.html").write_text(
        '<!DOCTYPE html>\n<!-- lang=de -->\n<html dir="ltr">\n<body></body>\n</html>\n', encoding="utf-8"
    )
    (out / "empty.html").write_text('<html lang="">\n<body></body></html>\n', encoding="utf-8")
    (out / "fragment.html").write_text("<p>Nur ein Schnipsel</p>\n", encoding="utf-8")
    (mpi / "build").mkdir()
    (mpi / "build" / "ignored.html").write_text("<html></html>", encoding="utf-8")  # not the build folder now
    assert findings(mpi) == [
        f"error out/newsletter/bad.html:3: <html> has no lang attribute — {LANG}",
        f"error out/newsletter/empty.html:1: <html> has an empty lang attribute — {LANG}",
        f"error out/newsletter/fragment.html:1: no <html> element, so no lang attribute — {LANG}",
    ]
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 1
    assert result.stdout.endswith(
        f"{items(mpi)} items, 5 campaigns and 5 generated HTML files linted: 3 errors, 0 warnings\n"
    )


# --- 5. informal address -------------------------------------------------------------------------


def test_informal_address_in_outward_texts(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-du",
        post(
            title="Bist du dabei?",
            extra="linkedin:\n  claim: Wir laden Sie ein\n  text: |\n    Wir laden Sie ein.\n    Bringt eure Ideen mit!\n",
        ).replace("summary: Eine kurze Zusammenfassung.", "summary: Dirk Durchbruch über Europa und Düsseldorf."),
        (
            "Ihr Team lädt Sie ein. Eduard dirigiert die Du-Form-Debatte.\n\n"
            'Sie sagte: „Du schaffst das, und dein Team auch!“ – und "euch" in Anführungszeichen.\n\n'
            "Wir sehen euch\nam 25. April. Das ist dein Tag; `du` im Code und "
            "[die Anmeldung](https://example.org/du/) nicht.\n"
        ),
    )
    body = line_of(mpi, shown, "Wir sehen euch")
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, 'title:')}: title: informal address 'du' in \"Bist du dabei?\" "
        f"— {FORMAL}",
        f"warning {shown}:{line_of(mpi, shown, 'Bringt eure')}: linkedin.text: informal address 'eure' in "
        f'"Wir laden Sie ein. Bringt eure Ideen mit!" — {FORMAL}',
        f"warning {shown}:{body}: body: informal address 'euch' in \"Wir sehen euch am 25. April. Das ist dein "
        f'Tag;…" — {FORMAL}',
        f"warning {shown}:{body + 1}: body: informal address 'dein' in \"…sehen euch am 25. April. Das ist dein "
        f'Tag; im Code und die Anmeldung…" — {FORMAL}',
    ]


def test_informal_address_in_a_campaign_and_in_an_event(mpi):
    campaign = mpi / "campaigns" / "newsletter-2024-1.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace("Wir freuen uns, Sie dort zu sehen!", "Wir freuen uns auf dich!"), encoding="utf-8"
    )
    shown = write(
        mpi,
        "events",
        "meet-up-test",
        "title: Meet-up zum Test\nstatus: draft\nformat: MPI Meet-up\n"
        "start: 2024-05-02 16:00\norganiser: mpi\n"
        "summary: >-\n  Ein Abend für alle,\n  die euer Netzwerk erweitern wollen.",
        "Text.\n",
    )
    assert findings(mpi) == [
        f"warning campaigns/newsletter-2024-1.yaml:{line_of(mpi, 'campaigns/newsletter-2024-1.yaml', 'auf dich')}: "
        "intro: informal address 'dich' in \"…IoT Campus. Wir freuen uns auf dich!\" "
        f"— {FORMAL}",
        f"warning {shown}:{line_of(mpi, shown, 'die euer')}: summary: informal address 'euer' in "
        f'"Ein Abend für alle, die euer Netzwerk erweitern wollen." — {FORMAL}',
    ]


# --- 6. the LinkedIn opening ---------------------------------------------------------------------


def test_linkedin_text_whose_opening_lacks_the_point(mpi):
    opening = "Ein langer Anlauf ohne den Kern. " * 8
    shown = write(
        mpi,
        "posts",
        "2024-02-15-linkedin",
        post(title="Fördercall startet", extra=f"linkedin:\n  text: >-\n    {opening}Der Fördercall startet.\n"),
    )
    write(
        mpi,
        "posts",
        "2024-02-16-entwurf",
        post(title="Noch ein Entwurf", extra=f"linkedin:\n  text: {opening}\n").replace("approved", "draft"),
    )
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, '  text:')}: linkedin.text: the first 210 characters (what the feed "
        "shows before „…mehr“) do not contain 'Fördercall startet' — say it in the opening, or set linkedin.claim "
        "to what the opening says",
    ]


# --- 7. the newsletter's size --------------------------------------------------------------------


def _issue_size(root: Path, issue: str) -> int:
    from commsflow.assemblers.newsletter import assemble

    workspace = Workspace(root=root, now_text=NOW)
    loaded = workspace.load()
    campaign = workspace.campaigns.get(issue, "newsletter")
    rendered = newsletter_renderer.render_issue(
        assemble(campaign, workspace.campaigns, loaded.library, workspace.config.zone),
        workspace.config,
        now=workspace.now,
    )
    return len(rendered.email_html.encode("utf-8"))


def _pad_issue(root: Path, issue: str, extra: int) -> None:
    """Give the issue's first section an intro of about ``extra`` bytes."""
    campaign = root / "campaigns" / f"{issue}.yaml"
    line = "Die Berliner Industrie wächst weiter und sucht Fachkräfte für morgen."  # 71 bytes with ä
    # In the e-mail each line is a paragraph, <p style="display:block;margin:13px 0">…</p>: the
    # paragraph margin of MJML's head is inlined into every <p> (for clients that drop <style>).
    paragraph = len(f'<p style="display:block;margin:13px 0">{line}</p>'.encode())
    paragraphs = "\n\n".join(f"      {line}" for _ in range(extra // paragraph))
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace("  - title: Termine\n", f"  - title: Termine\n    intro: |\n{paragraphs}\n", 1), encoding="utf-8"
    )


@pytest.mark.parametrize(
    "target, severity, pattern",
    [
        (
            96 * 1024,
            Severity.WARNING,
            r"the e-mail HTML is (\d+) KB, close to Gmail's clipping at 102 KB — keep the "
            r"next additions short",
        ),
        (
            110 * 1024,
            Severity.ERROR,
            r"the e-mail HTML is (\d+) KB; Gmail clips messages over 102 KB and hides the "
            r"rest, unsubscribe link included — shorten the issue: fewer items per section, shorter summaries",
        ),
    ],
)
def test_newsletter_near_or_over_the_clipping_threshold(mpi, target, severity, pattern):
    issue = "newsletter-2024-1"
    base = _issue_size(mpi, issue)
    assert base < newsletter_renderer.CLIP_WARNING  # the shipped issue is well below
    _pad_issue(mpi, issue, target - base)
    size = _issue_size(mpi, issue)
    problems = lint(open_plan(Workspace(root=mpi, now_text=NOW)))
    assert len(problems) == 1
    [problem] = problems
    assert (problem.path, problem.line, problem.field, problem.severity) == (
        f"campaigns/{issue}.yaml",
        None,
        None,
        severity,
    )
    match = re.fullmatch(pattern, f"{problem.message} — {problem.hint}")
    assert match and int(match[1]) == round(size / 1024)


# --- 8. events promoted after they started -------------------------------------------------------


def test_a_promotion_planned_after_the_event_started_is_an_error(run, mpi):
    campaign = mpi / "campaigns" / "mpi-meet-up-2024.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace("  - name: erinnerung\n    at: -1 week", "  - name: erinnerung\n    at: +1 day"), encoding="utf-8"
    )
    shown = "campaigns/mpi-meet-up-2024.yaml"
    assert findings(mpi) == [
        f"error {shown}:{line_of(mpi, shown, 'name: erinnerung')}: steps[2]: the reminder on linkedin planned for "
        "26.04.2024 10:00 comes after 'mpi-meet-up-2024' has started (25.04.2024 16:00) — promote the event before "
        "it starts: a negative 'at' (e.g. -1 week), or a recap template",
    ]
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 1
    assert result.stdout.endswith("linted: 1 error, 0 warnings\n")


def test_a_one_off_promotion_after_the_event_started_is_an_error(mpi):
    # A one-off publication after the start goes out as each channel's default for that
    # moment — on LinkedIn a recap, no promotion — unless a kind is named: the press
    # block's invitation, here, still invites after the start.
    shown = write(
        mpi,
        "events",
        "werkstattgespraech-2024",
        (
            "title: Werkstattgespräch Leichtbau\nstatus: approved\nformat: Workshop\nstart: 2024-05-02\n"
            "organiser: mpi\npublish_at: 2024-05-03 10:00\nchannels: [linkedin, press]\npress:\n  kind: invitation"
        ),
    )
    plan = open_plan(Workspace(root=mpi, now_text=NOW))
    assert sorted((job.channel, job.template) for job in plan.jobs if job.item == "werkstattgespraech-2024") == [
        ("linkedin", "recap"),
        ("press", "invitation"),
    ]
    assert findings(mpi) == [
        f"error {shown}:{line_of(mpi, shown, 'publish_at:')}: publish_at: the invitation on press planned for "
        "03.05.2024 10:00 comes after 'werkstattgespraech-2024' has started (02.05.2024) — set publish_at before "
        "the event's start, or remove publish_at and channels",
    ]


def test_a_promotion_still_due_when_the_event_has_started_is_a_warning(mpi):
    campaign = mpi / "campaigns" / "mpi-meet-up-2024.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text + '  - {name: letzter-aufruf, at: -0 days, time: "12:00", channel: linkedin, template: reminder}\n',
        encoding="utf-8",
    )
    shown = "campaigns/mpi-meet-up-2024.yaml"
    hint = (
        "the scheduler would send it after the event has started: remove the step (or the one-off publication) "
        "while it is not sent"
    )
    # At 15:00 the event is ahead: the reminder due since 12:00 is fine.
    assert findings(mpi, "2024-04-25 15:00") == []
    assert findings(mpi, "2024-04-25 17:00") == [
        f"warning {shown}:{line_of(mpi, shown, 'letzter-aufruf')}: steps[5]: the reminder on linkedin planned for "
        f"25.04.2024 12:00 is still due, but 'mpi-meet-up-2024' started 25.04.2024 16:00 — {hint}",
    ]


# --- 9. dead internal references -----------------------------------------------------------------


def test_dead_links_to_item_addresses_on_the_own_site(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-verweise",
        post(),
        (
            f"Unser [Veranstaltungsprogramm]({SITE}/blog/2024-03-12-mpi-veranstaltung-2024/) und\n"
            f"[die drei neuen Projekte]({SITE}/veranstaltungen/2024-03-01-drei-neue-mpi-projekte/).\n\n"
            f"[Ein Projekt]({SITE}/projekte/gibt-es-nicht)\n\n"
            f"Lebendig: [AMBER]({SITE}/projekte/amber-initiative/?utm_source=x#ziel),\n"
            f"[Meet-up](http://www.berlin.de/industriestadt/veranstaltungen/mpi-meet-up-2024),\n"
            f"[der MPI]({SITE}/masterplan-industriestadt-berlin/), [anderswo](https://example.org/blog/gibt-es-nicht/).\n"
        ),
    )
    first = line_of(mpi, shown, "[Veranstaltungsprogramm]")
    assert findings(mpi) == [
        f"error {shown}:{first}: body: dead link {SITE}/blog/2024-03-12-mpi-veranstaltung-2024/: there is no post "
        "'2024-03-12-mpi-veranstaltung-2024' in the content library — did you mean "
        f"'2024-03-12-mpi-veranstaltungen-2024'? ({SITE}/blog/2024-03-12-mpi-veranstaltungen-2024/)",
        f"error {shown}:{first + 1}: body: dead link {SITE}/veranstaltungen/2024-03-01-drei-neue-mpi-projekte/: "
        "there is no event '2024-03-01-drei-neue-mpi-projekte' in the content library — "
        f"'2024-03-01-drei-neue-mpi-projekte' is a news item; its address is {SITE}/aktuelles/"
        "2024-03-01-drei-neue-mpi-projekte/",
        f"error {shown}:{first + 3}: body: dead link {SITE}/projekte/gibt-es-nicht: there is no project "
        "'gibt-es-nicht' in the content library — link an existing project (its file name under content/) or "
        "remove the link",
    ]


def test_dead_link_behind_a_newsletter_button(mpi):
    campaign = mpi / "campaigns" / "newsletter-2023-2.yaml"
    text = campaign.read_text(encoding="utf-8")
    campaign.write_text(
        text.replace(f"url: {SITE}/masterplan-industriestadt-berlin/", f"url: {SITE}/aktuelles/foerdercall/"),
        encoding="utf-8",
    )
    shown = "campaigns/newsletter-2023-2.yaml"
    assert findings(mpi) == [
        f"error {shown}:{line_of(mpi, shown, 'url:')}: sections[5].cta.url: dead link {SITE}/aktuelles/foerdercall/: "
        "there is no news item 'foerdercall' in the content library — link an existing news item (its file name "
        "under content/) or remove the link",
    ]


# --- --strict ------------------------------------------------------------------------------------


def test_strict_turns_warnings_into_errors(run, mpi):
    shown = write(mpi, "posts", "2024-02-15-strikt", post(), "Mehr [hier](https://example.org/).\n")
    line = line_of(mpi, shown, "[hier]")
    message = f"{shown}:{line}: body: link text 'hier' says nothing out of context (→ https://example.org/) — {VAGUE}"
    result = run(mpi, "--now", NOW, "lint")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"warning {message}\n✓ {items(mpi)} items, 5 campaigns and 0 generated HTML files linted: 0 errors, 1 warning\n"
    )
    result = run(mpi, "--now", NOW, "lint", "--strict")
    assert result.exit_code == 1
    assert result.stdout == (
        f"error {message}\n✗ {items(mpi)} items, 5 campaigns and 0 generated HTML files linted: 1 error, 0 warnings\n"
    )


def test_an_alt_text_that_is_a_file_name_is_a_warning(mpi):
    shown = write(
        mpi,
        "posts",
        "2024-02-15-bild",
        post(extra="image:\n  src: halle.jpg\n  alt: IMG_4711.JPG\n"),
    )
    assert findings(mpi) == [
        f"warning {shown}:{line_of(mpi, shown, 'alt: IMG_4711.JPG')}: image.alt: alt text 'IMG_4711.JPG' does not "
        "describe the image — say what the image shows, e.g. „Teilnehmende der MPI Konferenz im Impact Hub“",
    ]
