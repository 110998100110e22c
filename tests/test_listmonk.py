"""The listmonk publisher against a local listmonk (pytest-httpserver) that answers as listmonk's API
documentation says (listmonk.app/docs/apis/campaigns): ``GET /api/campaigns?query=…``,
``POST /api/campaigns``, ``PUT /api/campaigns/{id}``, ``POST /api/campaigns/{id}/test`` and
``PUT /api/campaigns/{id}/status``, with ``{"data": …}`` on success and ``{"message": …}`` with a
4xx or 5xx otherwise, and listmonk's own rules: ``send_at`` only in the future, only a draft is
scheduled, a running, cancelled or finished campaign is not changed.

The issue is the real MPI issue rendered by the newsletter channel. Also here: what the footer
links to and which List-* headers the e-mail carries, for every list tool.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import json
import re
import shutil
import socket
import sqlite3
import traceback
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import MPI_2024, REPO, real_run
from werkzeug import Request, Response

from commsflow.assemblers.newsletter import assemble
from commsflow.calendar import build as build_calendar
from commsflow.channels.base import RenderContext
from commsflow.channels.newsletter import CHANNEL
from commsflow.errors import CommsflowError
from commsflow.publishers.base import Payload, Permanent, Transient
from commsflow.publishers.listmonk import LEAD, ListmonkPublisher, ListmonkSettings, campaign_tag
from commsflow.renderers import newsletter as renderer
from commsflow.workspace import Workspace

ISSUE = "newsletter-2024-1"
SEND_AT = datetime.fromisoformat("2024-04-04T10:00:00+02:00")
JOB = f"{ISSUE}/send/{ISSUE}@2024-04-04T10:00+02:00"
USER = "commsflow-api"
TOKEN = "lm-9Qw2-Zx7Kp4Vn8Rt3Hs6Bd1Gf5Jc0"  # never to be shown anywhere
TESTS = ("redaktion@example.org", "leitung@example.org")
UNSUBSCRIBE = "https://www.berlin.de/industriestadt/newsletter/abmelden/"
WEB = f"https://www.berlin.de/industriestadt/newsletter/{ISSUE}/web.html"
BEFORE = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)  # the clock of the hand-over, well before send_at

LISTMONK_CONFIG = """\
list_tool = "listmonk"
listmonk_lists = [3, 7]
listmonk_template = 4
test_addresses = ["redaktion@example.org", "leitung@example.org"]
"""


# ---------------------------------------------------------------- a listmonk that keeps its rules


@dataclass
class FakeListmonk:
    """listmonk's campaign API as documented, in memory. ``fail``: (method, path suffix) → the
    status to answer once instead (after doing the work when ``after`` is set, as a proxy that
    times out while listmonk carries on). ``now``: listmonk's clock."""

    campaigns: dict[int, dict] = field(default_factory=dict)
    calls: list[tuple[str, str, dict | None]] = field(default_factory=list)
    fail: dict[tuple[str, str], int] = field(default_factory=dict)
    after: bool = False
    tests: list[list[str]] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(41))
    now: datetime = BEFORE

    def add(self, **campaign) -> dict:
        number = next(self.ids)
        self.campaigns[number] = {
            "id": number,
            "uuid": f"57702beb-6fae-4355-a324-c2fd5b59a5{number:02d}",
            "type": "regular",
            "views": 0,
            "clicks": 0,
            "to_send": 0,
            "sent": 0,
            "started_at": None,
            "messenger": "email",
            "content_type": "richtext",
            "altbody": None,
            "tags": [],
            "status": "draft",
            **campaign,
        }
        return self.campaigns[number]

    def __call__(self, request: Request) -> Response:
        body = request.get_json(silent=True)
        path = request.path
        self.calls.append((request.method, path, body))
        expected = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self.error(403, "invalid API credentials")
        for (method, suffix), status in list(self.fail.items()):
            if request.method == method and path.endswith(suffix):
                del self.fail[(method, suffix)]
                if self.after:
                    self.answer(request.method, path, body, request)
                return self.error(status, "upstream timed out")
        return self.answer(request.method, path, body, request)

    def answer(self, method: str, path: str, body, request: Request) -> Response:
        match = re.fullmatch(r"/api/campaigns(?:/(\d+))?(/test|/status)?", path)
        if not match:
            return self.error(404, "Not found")
        number = int(match[1]) if match[1] else None
        if number is not None and number not in self.campaigns:
            return self.error(400, "Campaign not found.")
        action = match[2]
        if method == "GET" and number is None:
            query = request.args.get("query", "").lower()
            found = [c for c in self.campaigns.values() if query in f"{c['name']} {c['subject']}".lower()]
            return self.data({"results": found, "query": query, "total": len(found), "per_page": 0, "page": 1})
        if method == "POST" and number is None:
            problem = self.invalid(body)
            if problem:
                return self.error(400, problem)
            return self.data(self.add(**self.fields(body)))
        campaign = self.campaigns[number]
        if method == "PUT" and action is None:
            if campaign["status"] in ("running", "cancelled", "finished"):
                return self.error(400, "Cannot update a running or finished campaign.")
            problem = self.invalid(body)
            if problem:
                return self.error(400, problem)
            campaign.update(self.fields(body))
            return self.data(campaign)
        if method == "POST" and action == "/test":
            problem = self.invalid(body) or ("" if body.get("subscribers") else "No subscribers.")
            if problem:
                return self.error(400, problem)
            self.tests.append(body["subscribers"])
            return self.data(True)
        if method == "PUT" and action == "/status":
            wanted = body["status"]
            if wanted == "scheduled" and campaign["status"] != "draft":
                return self.error(400, "Only draft campaigns can be scheduled.")
            campaign["status"] = wanted
            return self.data(campaign)
        return self.error(405, "Method not allowed")

    def invalid(self, body) -> str:
        if not isinstance(body, dict) or not body.get("name") or not body.get("subject"):
            return "Invalid name or subject."
        if not body.get("lists"):
            return "Invalid list IDs."
        if body.get("send_at") and datetime.fromisoformat(body["send_at"]) < self.now:
            return "`send_at` date should be in the future."
        return ""

    @staticmethod
    def fields(body: dict) -> dict:
        keys = ("name", "subject", "from_email", "type", "content_type", "body", "altbody", "send_at")
        keys += ("messenger", "template_id", "tags")
        lists = [{"id": number, "name": f"Liste {number}"} for number in body["lists"]]
        return {key: body.get(key) for key in keys} | {"lists": lists}

    @staticmethod
    def data(data) -> Response:
        return Response(json.dumps({"data": data}), status=200, content_type="application/json")

    @staticmethod
    def error(status: int, message: str) -> Response:
        return Response(json.dumps({"message": message}), status=status, content_type="application/json")

    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _ in self.calls if method != "GET"]


@pytest.fixture
def listmonk(httpserver) -> FakeListmonk:
    fake = FakeListmonk()
    httpserver.expect_request(re.compile(r"^/api/.*")).respond_with_handler(fake)
    return fake


# ---------------------------------------------------------------- the issue, as the channel renders it


def copy_project(target: Path, newsletter: str = LISTMONK_CONFIG) -> Path:
    shutil.copytree(MPI_2024, target)
    shutil.copytree(REPO / "templates", target / "templates")
    config = target / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[newsletter]\n", f"[newsletter]\n{newsletter}"), encoding="utf-8")
    return target


def render_issue(root: Path) -> tuple[Workspace, Payload]:
    workspace = Workspace(root, now_text="2024-03-01 10:00")
    loaded = workspace.load()
    calendar = build_calendar(workspace.config, workspace.campaigns, loaded.library, workspace.now)
    job = next(job for job in calendar.jobs if job.channel == "newsletter" and job.item == ISSUE)
    rendition = CHANNEL.render(job, RenderContext(workspace.config, loaded.library, workspace.campaigns))
    assert rendition.payload is not None, rendition.problems
    return workspace, rendition.payload


@pytest.fixture(scope="module")
def issue(tmp_path_factory) -> tuple[Workspace, Payload]:
    return render_issue(copy_project(tmp_path_factory.mktemp("listmonk") / "mpi"))


def publisher(issue, url: str, *, clock=BEFORE, **settings) -> ListmonkPublisher:
    workspace, _ = issue
    env = {"COMMSFLOW_LISTMONK_URL": url, "COMMSFLOW_LISTMONK_USER": USER, "COMMSFLOW_LISTMONK_TOKEN": TOKEN}
    built = replace(ListmonkSettings.from_env(workspace.config, env), **settings)
    return ListmonkPublisher(built, clock=lambda: clock)


@pytest.fixture
def lm(issue, httpserver, listmonk) -> ListmonkPublisher:
    return publisher(issue, httpserver.url_for("/").rstrip("/"))


def failure(publisher: ListmonkPublisher, payload: Payload, kind) -> Exception:
    with pytest.raises(kind) as caught:
        publisher.publish(payload)
    return caught.value


def assert_no_secret(error: BaseException | None, *texts: str) -> None:
    shown = [str(error), repr(error), "".join(traceback.format_exception(error))] if error else []
    encoded = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    for text in [*shown, *texts]:
        assert TOKEN not in text and encoded not in text, f"secret shown in: {text}"


# ---------------------------------------------------------------- 1. the campaign


def test_an_issue_becomes_a_campaign_tested_then_scheduled(issue, lm, listmonk, httpserver):
    _, payload = issue
    receipt = lm.publish(payload)

    tag = campaign_tag(JOB)
    assert receipt.id == "41"
    assert receipt.url == httpserver.url_for("/admin/campaigns/41")
    assert receipt.note == (
        "scheduled in listmonk for 04.04.2024 10:00 Uhr; test sent to redaktion@example.org, leitung@example.org"
    )
    assert [(method, path) for method, path, _ in listmonk.calls] == [
        ("GET", "/api/campaigns"),
        ("POST", "/api/campaigns"),
        ("POST", "/api/campaigns/41/test"),
        ("PUT", "/api/campaigns/41/status"),
    ]
    search = httpserver.log[0][0]
    assert search.args.get("query") == tag and search.args.get("per_page") == "all"

    campaign = listmonk.campaigns[41]
    assert campaign["status"] == "scheduled"
    assert campaign["name"] == f"{ISSUE} ({tag})" and campaign["tags"] == [tag]
    assert campaign["subject"].startswith("MPI-Newsletter: Einladung zum MPI Meet-up")
    assert campaign["from_email"] == "Masterplan Industriestadt Berlin <newsletter@senweb.berlin.de>"
    assert [entry["id"] for entry in campaign["lists"]] == [3, 7]
    assert campaign["type"] == "regular" and campaign["content_type"] == "html"
    assert campaign["messenger"] == "email" and campaign["template_id"] == 4
    assert campaign["body"] == payload.files["email.html"].decode()
    assert campaign["altbody"] == payload.files["email.txt"].decode()
    assert datetime.fromisoformat(campaign["send_at"]) == SEND_AT  # the issue's own time, ahead of the clock
    # Each reader's own links, filled in by listmonk.
    assert 'href="{{ UnsubscribeURL }}"' in campaign["body"] and 'href="{{ MessageURL }}"' in campaign["body"]
    assert "{{ UnsubscribeURL }}" in campaign["altbody"]
    assert UNSUBSCRIBE not in campaign["body"]
    _, _, created = listmonk.calls[1]
    assert "headers" not in created  # listmonk adds List-Unsubscribe(-Post) with each reader's address itself
    assert listmonk.tests == [list(TESTS)]
    assert all(
        request.headers["Authorization"] == "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        for request, _ in httpserver.log
    )


def test_without_test_addresses_it_is_scheduled_without_a_test(issue, httpserver, listmonk):
    lm = publisher(issue, httpserver.url_for("/").rstrip("/"), test_addresses=())
    receipt = lm.publish(issue[1])
    assert receipt.note == "scheduled in listmonk for 04.04.2024 10:00 Uhr"
    assert listmonk.writes() == [("POST", "/api/campaigns"), ("PUT", "/api/campaigns/41/status")]


def test_an_issue_handed_over_when_due_is_scheduled_a_few_minutes_ahead(issue, httpserver, listmonk):
    now = listmonk.now = datetime.now(UTC).replace(microsecond=0)
    due = replace(issue[1], when=now - timedelta(minutes=1))
    lm = publisher(issue, httpserver.url_for("/").rstrip("/"), clock=now)
    lm.publish(due)
    assert datetime.fromisoformat(listmonk.campaigns[41]["send_at"]) == now + LEAD
    assert listmonk.campaigns[41]["status"] == "scheduled"


# ---------------------------------------------------------------- 2. sending again


def test_sending_again_after_a_crash_updates_the_same_campaign(issue, lm, listmonk):
    """The proxy gave up on the test (504) while listmonk carried on: tried again, the campaign is
    found by its tag and updated; there is never a second one."""
    _, payload = issue
    listmonk.fail[("POST", "/test")] = 504
    listmonk.after = True
    error = failure(lm, payload, Transient)
    assert "answered 504 to the test of campaign 41: upstream timed out — it will be tried again later" in str(error)
    assert listmonk.campaigns[41]["status"] == "draft"

    receipt = lm.publish(payload)

    assert receipt.id == "41"
    assert list(listmonk.campaigns) == [41]
    assert listmonk.writes() == [
        ("POST", "/api/campaigns"),
        ("POST", "/api/campaigns/41/test"),
        ("PUT", "/api/campaigns/41"),
        ("POST", "/api/campaigns/41/test"),
        ("PUT", "/api/campaigns/41/status"),
    ]
    assert listmonk.campaigns[41]["status"] == "scheduled"


def test_a_campaign_made_by_hand_with_the_same_words_is_not_taken(issue, lm, listmonk):
    _, payload = issue
    listmonk.add(name=f"{ISSUE} (von Hand)", subject=payload.title, tags=["newsletter"], status="draft")
    assert lm.publish(payload).id == "42"
    assert listmonk.campaigns[41]["status"] == "draft" and listmonk.campaigns[42]["status"] == "scheduled"


def test_a_campaign_listmonk_has_scheduled_already_is_updated_not_scheduled_again(issue, lm, listmonk):
    _, payload = issue
    tag = campaign_tag(JOB)
    listmonk.add(name=f"{ISSUE} ({tag})", subject="alt", tags=[tag], status="scheduled")
    receipt = lm.publish(payload)
    assert receipt.id == "41"
    assert receipt.note == "campaign 41 updated; listmonk had it scheduled already, now for 04.04.2024 10:00 Uhr"
    assert listmonk.writes() == [("PUT", "/api/campaigns/41")]
    assert listmonk.campaigns[41]["subject"] == payload.title


@pytest.mark.parametrize("status", ["running", "finished"])
def test_a_campaign_listmonk_is_sending_or_has_sent_counts_as_sent(issue, lm, listmonk, status):
    tag = campaign_tag(JOB)
    listmonk.add(name=f"{ISSUE} ({tag})", subject="MPI-Newsletter", tags=[tag], status=status)
    receipt = lm.publish(issue[1])
    assert receipt.id == "41"
    assert receipt.note == f"already handed over: listmonk is sending campaign 41 or has sent it ({status})"
    assert listmonk.writes() == []


@pytest.mark.parametrize("status", ["paused", "cancelled"])
def test_a_campaign_stopped_in_listmonk_is_left_to_a_person(issue, lm, listmonk, status):
    tag = campaign_tag(JOB)
    listmonk.add(name=f"{ISSUE} ({tag})", subject="MPI-Newsletter", tags=[tag], status=status)
    error = failure(lm, issue[1], Permanent)
    assert f"campaign 41 of {ISSUE} is {status} in listmonk — someone stopped it there" in str(error)
    assert listmonk.writes() == []


def test_two_campaigns_with_the_tag_are_left_to_a_person(issue, lm, listmonk):
    tag = campaign_tag(JOB)
    listmonk.add(name=f"{ISSUE} ({tag})", subject="MPI-Newsletter", tags=[tag])
    listmonk.add(name=f"Copy of {ISSUE} ({tag})", subject="MPI-Newsletter", tags=[tag])
    error = failure(lm, issue[1], Permanent)
    assert f"listmonk has several campaigns tagged {tag} (41, 42)" in str(error)
    assert listmonk.writes() == []


def test_the_tag_is_the_job_s():
    assert campaign_tag(JOB) == campaign_tag(JOB)
    assert campaign_tag(JOB) != campaign_tag(JOB.replace("10:00", "10:30"))
    assert re.fullmatch(r"commsflow-[0-9a-f]{16}", campaign_tag(JOB))


# ---------------------------------------------------------------- 3. refusals and trouble


def test_a_validation_error_is_permanent_and_shows_listmonk_s_message(issue, lm, httpserver, listmonk):
    """A clock behind listmonk's: the issue's time looks ahead here, listmonk refuses it as past."""
    listmonk.now = SEND_AT + timedelta(days=1)
    error = failure(lm, issue[1], Permanent)
    assert error.status == 400
    assert str(error) == (
        f"newsletter (listmonk): {httpserver.url_for('/').rstrip('/')} refused creating the campaign (400): "
        "`send_at` date should be in the future. — fix what it names, then: commsflow retry"
    )
    assert listmonk.campaigns == {}
    assert_no_secret(error)


def test_an_error_that_echoes_the_credentials_shows_none_of_them(issue, httpserver):
    echoed = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
    httpserver.expect_request("/api/campaigns").respond_with_json(
        {"message": f"bad request from Basic {echoed} (token {TOKEN})"}, status=422
    )
    error = failure(publisher(issue, httpserver.url_for("/").rstrip("/")), issue[1], Permanent)
    assert "refused the search for the campaign (422): bad request from Basic ***" in str(error)
    assert_no_secret(error)


def test_refused_credentials_are_permanent(issue, httpserver, listmonk):
    env = {
        "COMMSFLOW_LISTMONK_URL": httpserver.url_for("/"),
        "COMMSFLOW_LISTMONK_USER": USER,
        "COMMSFLOW_LISTMONK_TOKEN": "falsch-" + TOKEN[::-1],
    }
    wrong = ListmonkPublisher(ListmonkSettings.from_env(issue[0].config, env))
    error = failure(wrong, issue[1], Permanent)
    assert "refused the credentials (403): invalid API credentials" in str(error)
    assert "check COMMSFLOW_LISTMONK_USER and COMMSFLOW_LISTMONK_TOKEN" in str(error)
    assert TOKEN[::-1] not in str(error)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_that_is_down_is_transient(issue):
    lm = publisher(issue, f"http://127.0.0.1:{free_port()}", timeout=2)
    error = failure(lm, issue[1], Transient)
    assert str(error).startswith("newsletter (listmonk): cannot connect to http://127.0.0.1:")
    assert "it will be tried again; check COMMSFLOW_LISTMONK_URL and that listmonk is up" in str(error)
    assert_no_secret(error)


def test_a_busy_server_is_transient_with_its_retry_after(issue, httpserver):
    httpserver.expect_request("/api/campaigns").respond_with_json(
        {"message": "Service unavailable"}, status=503, headers={"Retry-After": "120"}
    )
    error = failure(publisher(issue, httpserver.url_for("/").rstrip("/")), issue[1], Transient)
    assert error.retry_after == 120 and error.status == 503
    assert "answered 503 to the search for the campaign: Service unavailable" in str(error)


def test_an_answer_that_is_not_listmonk_s_is_permanent(issue, httpserver):
    httpserver.expect_request("/api/campaigns").respond_with_data("<html>Anmeldung</html>", content_type="text/html")
    error = failure(publisher(issue, httpserver.url_for("/").rstrip("/")), issue[1], Permanent)
    assert "answered the search for the campaign with something other than listmonk's JSON" in str(error)


def test_an_e_mail_without_listmonk_s_unsubscribe_tag_is_not_handed_over(issue, lm, listmonk, tmp_path):
    _, plain = render_issue(copy_project(tmp_path / "mpi", newsletter='list_tool = "none"\n'))
    error = failure(lm, plain, Permanent)
    assert "has no unsubscribe link for each reader ({{ UnsubscribeURL }})" in str(error)
    assert listmonk.calls == []


# ---------------------------------------------------------------- 4. settings


ENV = {"COMMSFLOW_LISTMONK_URL": "https://listen.example.org/", "COMMSFLOW_LISTMONK_USER": USER}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "COMMSFLOW_LISTMONK_URL is not set"),
        ({**ENV, "COMMSFLOW_LISTMONK_URL": "listen.example.org"}, "COMMSFLOW_LISTMONK_URL is not an http(s) address"),
        ({**ENV, "COMMSFLOW_LISTMONK_URL": f"https://{USER}:{TOKEN}@listen.example.org"}, "has a user name or"),
        ({**ENV, "COMMSFLOW_LISTMONK_USER": ""}, "no API user (COMMSFLOW_LISTMONK_USER is not set"),
        (ENV, "no access token (COMMSFLOW_LISTMONK_TOKEN is not set)"),
        ({**ENV, "COMMSFLOW_LISTMONK_TOKEN": "zwei teile"}, "COMMSFLOW_LISTMONK_TOKEN has characters"),
    ],
    ids=["no-url", "no-scheme", "user-in-url", "no-user", "no-token", "token-with-space"],
)
def test_settings_from_the_environment(issue, env, expected):
    with pytest.raises(CommsflowError) as caught:
        ListmonkSettings.from_env(issue[0].config, env)
    assert expected in caught.value.message
    assert_no_secret(None, caught.value.message, caught.value.hint or "")


@pytest.mark.parametrize(
    "newsletter, expected",
    [
        ('list_tool = "mailchimp"\nlistmonk_lists = [3]\nlistmonk_template = 4\n', "list_tool is 'mailchimp'"),
        ('list_tool = "listmonk"\nlistmonk_template = 4\n', "no list to send newsletter issues to"),
        ('list_tool = "listmonk"\nlistmonk_lists = [3]\n', "no campaign template for newsletter issues"),
    ],
    ids=["other-list-tool", "no-lists", "no-template"],
)
def test_settings_from_the_configuration(tmp_path, newsletter, expected):
    workspace = Workspace(copy_project(tmp_path / "mpi", newsletter=newsletter))
    env = {**ENV, "COMMSFLOW_LISTMONK_TOKEN": TOKEN}
    with pytest.raises(CommsflowError) as caught:
        ListmonkSettings.from_env(workspace.config, env)
    assert expected in caught.value.message


def test_listmonk_is_the_list_tool_where_listmonk_sends(tmp_path):
    root = copy_project(tmp_path / "mpi", newsletter="listmonk_lists = [3]\nlistmonk_template = 4\n")
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[publishing]\n", '[publishing]\nnewsletter = "listmonk"\n'), encoding="utf-8")
    workspace = Workspace(root)
    settings = ListmonkSettings.from_env(workspace.config, {**ENV, "COMMSFLOW_LISTMONK_TOKEN": TOKEN})
    assert settings.url == "https://listen.example.org" and settings.lists == (3,) and settings.template == 4
    lm = ListmonkPublisher(settings)
    assert TOKEN not in repr(lm) and TOKEN not in repr(settings)
    assert repr(lm) == f"ListmonkPublisher({USER} at https://listen.example.org)"
    assert lm.credentials == ("COMMSFLOW_LISTMONK_TOKEN",) and lm.deduplicates


def test_an_unknown_list_tool_is_a_configuration_error(tmp_path, run):
    root = copy_project(tmp_path / "mpi", newsletter='list_tool = "cleverraech"\n')
    result = run(root, "check")
    assert result.exit_code == 1
    assert "newsletter.list_tool" in result.output and "'cleverreach'" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- 5. through the scheduler


def scheduler_project(root: Path, url: str, monkeypatch) -> Path:
    copy_project(root, newsletter="listmonk_lists = [3, 7]\nlistmonk_template = 4\n")
    for path in (root / "campaigns").glob("*.yaml"):
        if path.stem != ISSUE:
            path.unlink()
    (root / "approvals.yaml").unlink()  # signed off with the footer of before; no sign-off needed here
    config = root / "commsflow.toml"
    text = config.read_text(encoding="utf-8").replace("require_signoff = true\n", "")
    text = text.replace("[publishing]\n", '[publishing]\nnewsletter = "listmonk"\nrequire_signoff = false\n')
    config.write_text(text, encoding="utf-8")
    monkeypatch.setenv("COMMSFLOW_LISTMONK_URL", url)
    monkeypatch.setenv("COMMSFLOW_LISTMONK_USER", USER)
    monkeypatch.setenv("COMMSFLOW_LISTMONK_TOKEN", TOKEN)
    return root


def ledger(root: Path) -> dict:
    db = sqlite3.connect((root / ".commsflow" / "ledger.sqlite").as_uri() + "?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    rows = {row["id"]: dict(row) for row in db.execute("SELECT * FROM jobs")}
    db.close()
    return rows


def test_listmonk_down_is_tried_again_by_the_scheduler(tmp_path, monkeypatch, httpserver, listmonk):
    listmonk.now = datetime.now(UTC)  # the publisher hands over on the real clock, whatever the scheduler's
    root = scheduler_project(tmp_path / "mpi", f"http://127.0.0.1:{free_port()}", monkeypatch)
    first = real_run(root, "2024-04-04 10:00", "--once")
    assert f"✗ failed  newsletter newsletter {ISSUE}" in first.stdout
    assert "cannot connect to http://127.0.0.1:" in first.stdout and "next at 10:01" in first.stdout
    assert ledger(root)[JOB]["state"] == "failed" and ledger(root)[JOB]["permanent"] == 0

    monkeypatch.setenv("COMMSFLOW_LISTMONK_URL", httpserver.url_for("/"))
    second = real_run(root, "2024-04-04 10:01", "--once")
    assert f"✓ done    newsletter newsletter {ISSUE}" in second.stdout, second.output
    row = ledger(root)[JOB]
    assert row["state"] == "done" and row["attempts"] == 2
    assert row["receipt"] == "41" and row["url"].endswith("/admin/campaigns/41")
    assert listmonk.campaigns[41]["status"] == "scheduled"
    assert TOKEN not in first.output + second.output


def test_a_send_interrupted_by_a_crash_updates_the_campaign_it_had_made(tmp_path, monkeypatch, httpserver, listmonk):
    listmonk.now = datetime.now(UTC)
    root = scheduler_project(tmp_path / "mpi", httpserver.url_for("/"), monkeypatch)
    real_run(root, "2024-04-04 09:00", "--once")  # the ledger, nothing due yet
    tag = campaign_tag(JOB)
    listmonk.add(name=f"{ISSUE} ({tag})", subject="halb fertig", tags=[tag], status="draft", lists=[])
    db = sqlite3.connect(root / ".commsflow" / "ledger.sqlite")
    db.execute(
        "INSERT INTO jobs (id, channel, item, planned, state, attempts, updated) VALUES "
        "(?, 'newsletter', ?, '2024-04-04T10:00:00+02:00', 'sending', 1, '2024-04-04T10:00:00+02:00')",
        (JOB, ISSUE),
    )
    db.commit()
    db.close()

    result = real_run(root, "2024-04-04 10:02", "--once")

    assert f"✓ done    newsletter newsletter {ISSUE}" in result.stdout, result.output
    assert list(listmonk.campaigns) == [41]
    assert ("POST", "/api/campaigns") not in listmonk.writes()
    assert ("PUT", "/api/campaigns/41") in listmonk.writes()
    assert listmonk.campaigns[41]["status"] == "scheduled"
    assert listmonk.campaigns[41]["subject"].startswith("MPI-Newsletter")


# ---------------------------------------------------------------- 6. footer and List-* headers per list tool


class Links(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((" ".join(self._text.split()), self._href))
            self._href = None

    def target(self, text: str) -> list[str]:
        return [href for words, href in self.links if words == text]


@pytest.mark.parametrize(
    "tool, unsubscribe, web",
    [
        ("none", UNSUBSCRIBE, WEB),
        ("listmonk", "{{ UnsubscribeURL }}", "{{ MessageURL }}"),
        ("mailchimp", "*|UNSUB|*", "*|ARCHIVE|*"),
        ("cleverreach", "{UNSUBSCRIBE}", WEB),
        ("mailerlite", "{$unsubscribe}", WEB),
    ],
)
def test_the_footer_links_each_reader_s_own_unsubscribe_address_where_the_list_tool_has_one(
    tmp_path, tool, unsubscribe, web
):
    workspace = Workspace(copy_project(tmp_path / "mpi", newsletter=f'list_tool = "{tool}"\n'))
    campaign = workspace.campaigns.get(ISSUE, "newsletter")
    assembled = assemble(campaign, workspace.campaigns, workspace.load().library, workspace.config.zone)
    rendered = renderer.render_issue(assembled, workspace.config, now=workspace.now)

    links = Links(rendered.email_html)
    assert links.target("Newsletter abbestellen") == [unsubscribe]
    assert links.target("Im Browser lesen") == [web]
    assert unsubscribe in rendered.text and web in rendered.text
    if tool != "none":
        assert UNSUBSCRIBE not in rendered.email_html and UNSUBSCRIBE not in rendered.text
    # The placeholders are not taken for broken links.
    assert rendered.problems == []

    # One message for every reader: no List-Unsubscribe, and no one-click promise without a reader's
    # own address (RFC 8058) — what sends each copy adds both, with that reader's.
    message = email.message_from_bytes(rendered.message.as_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    for kind, content in (("html", rendered.email_html), ("plain", rendered.text)):
        assert message.get_body((kind,)).get_content().replace("\r\n", "\n").strip() == content.strip()

    # The web version is a public page: the fixed addresses, never a placeholder.
    assert Links(rendered.web_html).target("Newsletter abbestellen") == [UNSUBSCRIBE]
    assert not any(mark in rendered.web_html for mark in ("{{", "*|", "{UNSUBSCRIBE}", "{$unsubscribe}"))
