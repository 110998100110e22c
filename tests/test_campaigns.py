"""Campaign files with mistakes: one message each, naming file, line and field; exit 1."""

from __future__ import annotations

import pytest

VALID = """\
kind: newsletter
title: Testausgabe
subject: Test
preheader: Vorschau
send_at: 2024-04-04 10:00
period:
  start: 2023-11-08
  end: 2024-04-03
intro: Hallo.
sections:
  - title: Termine
    select:
      type: event
      from: send
      until: send + 26 weeks
"""

CASES = [
    (
        "missing kind",
        VALID.replace("kind: newsletter\n", ""),
        "campaigns/test.yaml:1: kind: missing 'kind' — add 'kind: newsletter' (known kinds: newsletter, event, slot)",
    ),
    (
        "unknown kind",
        VALID.replace("kind: newsletter", "kind: newsleter"),
        "campaigns/test.yaml:1: kind: unknown campaign kind 'newsleter' — did you mean 'newsletter'?",
    ),
    (
        "bad yaml",
        VALID.replace("title: Testausgabe", 'title: Test: "Ausgabe'),
        "campaigns/test.yaml:2: file is not valid YAML",
    ),
    (
        "misspelt field",
        VALID.replace("preheader:", "preheadr:"),
        "campaigns/test.yaml:4: preheadr: unknown field — did you mean `preheader`?",
    ),
    (
        "send without time",
        VALID.replace("send_at: 2024-04-04 10:00", "send_at: 2024-04-04"),
        "campaigns/test.yaml:5: send_at: 2024-04-04 has no time — give the send time too, e.g. '2024-04-04 10:00'",
    ),
    (
        "impossible date",
        VALID.replace("send_at: 2024-04-04 10:00", "send_at: 2024-02-30 10:00"),
        "campaigns/test.yaml:5: send_at:",
    ),
    (
        "reversed period",
        VALID.replace("end: 2024-04-03", "end: 2023-01-03"),
        "campaigns/test.yaml:6: period: period ends (2023-01-03) before it starts (2023-11-08) — check start and end",
    ),
    (
        "bad window bound",
        VALID.replace("until: send + 26 weeks", "until: nach dem Versand"),
        "campaigns/test.yaml:15: sections[0].select.until: 'nach dem Versand' is not a window bound — write one of "
        "send, previous, period.start, period.end",
    ),
    (
        "bad type",
        VALID.replace("type: event", "type: events"),
        "campaigns/test.yaml:13: sections[0].select.type: 'events' is not a content type — did you mean 'event'?",
    ),
    (
        "empty section",
        VALID.replace("    select:\n      type: event\n      from: send\n      until: send + 26 weeks\n", ""),
        "campaigns/test.yaml:11: sections[0]: a section needs 'items', 'select', 'featured' or 'cta' — say what it shows",
    ),
    (
        "no sections",
        VALID.split("sections:")[0] + "sections: []\n",
        "campaigns/test.yaml:10: sections: must not be empty",
    ),
    (
        "unknown previous",
        VALID.replace("intro: Hallo.", "previous: newsletter-2023-3\nintro: Hallo."),
        "campaigns/test.yaml:9: previous: no newsletter issue 'newsletter-2023-3' — did you mean 'newsletter-2023-2'?",
    ),
    ("not a mapping", "- kind: newsletter\n", "campaigns/test.yaml:1: file must be 'field: value' lines"),
    ("not utf-8", None, "campaigns/test.yaml:2: not UTF-8 text"),
]


@pytest.mark.parametrize(
    "text, expected", [(text, expected) for _, text, expected in CASES], ids=[name for name, _, _ in CASES]
)
def test_bad_campaign_file_is_reported_by_check_and_build(run, mpi, text, expected):
    path = mpi / "campaigns" / "test.yaml"
    if text is None:
        path.write_bytes(VALID.replace("Testausgabe", "Pr\xfcfausgabe").encode("latin-1"))
    else:
        path.write_text(text, encoding="utf-8")
    result = run(mpi, "--now", "2024-03-01 10:00", "check")
    assert result.exit_code == 1, result.output
    assert expected in result.stdout
    assert "Traceback" not in result.output
    built = run(mpi, "--now", "2024-03-01 10:00", "newsletter", "build", "test")
    assert built.exit_code == 1
    assert "Traceback" not in built.output
    assert not (mpi / "build" / "newsletter" / "test").exists()


def test_duplicate_campaign_id(run, mpi):
    (mpi / "campaigns" / "kopie.yaml").write_text(
        VALID.replace("kind: newsletter", "kind: newsletter\nid: newsletter-2024-1"), encoding="utf-8"
    )
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        "campaigns/newsletter-2024-1.yaml:1: id: campaign id 'newsletter-2024-1' is already used by "
        "campaigns/kopie.yaml — give each campaign its own id"
    ) in result.stdout


def test_check_reports_unknown_items_in_campaigns(run, mpi):
    (mpi / "campaigns" / "test.yaml").write_text(
        VALID.replace(
            "    select:\n      type: event\n      from: send\n      until: send + 26 weeks\n",
            "    items: [mpi-meetup-2024, 2024-02-21-gesichter-des-mpi-amber-koordinierungsstelle]\n",
        ),
        encoding="utf-8",
    )
    result = run(mpi, "check")
    assert result.exit_code == 1
    assert (
        "campaigns/test.yaml:12: sections[0].items[0]: no item 'mpi-meetup-2024' in the content library "
        "— did you mean 'mpi-meet-up-2024'?"
    ) in result.stdout
    # Not approved yet is fine while planning; the build refuses it.
    assert "is draft" not in result.stdout


def test_shipped_campaigns_are_clean(run, mpi):
    result = run(mpi, "--now", "2024-03-01 10:00", "check")
    assert result.exit_code == 0, result.output
    # The one warning is the Meet-up's (it has no end: tests/test_event_ics.py), none a campaign's.
    assert "5 campaigns: 0 errors, 1 warning" in result.stdout
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("warning ")]
    assert warning.startswith("warning content/events/mpi-meet-up-2024.md:5: end: not given")
