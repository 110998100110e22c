"""A due job rendered into what its channel sends: the same renderers as the build
commands, so what the team previewed is what goes out."""

from __future__ import annotations

from datetime import datetime

from commsflow import stats
from commsflow.assemblers import linkedin as linkedin_plan
from commsflow.assemblers import press as press_assembler
from commsflow.assemblers.newsletter import assemble
from commsflow.calendar import Job
from commsflow.campaigns import CampaignSet
from commsflow.config import Config
from commsflow.library import Library
from commsflow.publishers.base import Payload
from commsflow.renderers import linkedin as linkedin_renderer
from commsflow.renderers import newsletter as newsletter_renderer
from commsflow.renderers import press as press_renderer


class RenderFailed(Exception):
    """The job's output has errors (an item changed since it was planned): a person must look."""


def render_payload(job: Job, config: Config, library: Library, campaigns: CampaignSet, now: datetime) -> Payload:
    if job.channel == "newsletter":
        return _newsletter(job, config, library, campaigns, now)
    if job.channel == "press":
        return _press(job, config, library, now)
    return _post(job, config, library, now)


def _errors(problems) -> None:
    errors = [p for p in problems if p.is_error]
    if errors:
        raise RenderFailed("; ".join(p.format() for p in errors[:3]))


def _newsletter(job, config, library, campaigns, now) -> Payload:
    campaign = campaigns.get(job.item, "newsletter")
    issue = assemble(campaign, campaigns, library, config.zone)
    _errors(issue.problems)
    rendered = newsletter_renderer.render_issue(issue, config, now=now)
    _errors(rendered.problems)
    message = rendered.message
    if config.newsletter.list_address:
        del message["To"]
        message["To"] = config.newsletter.list_address
    return Payload(
        job.id,
        job.channel,
        job.item,
        job.template,
        campaign.spec.subject,
        rendered.text,
        link=newsletter_renderer.web_url(config, job.item),
        message=message,
        files={"email.html": rendered.email_html.encode(), "email.txt": rendered.text.encode()},
    )


def _press(job, config, library, now) -> Payload:
    item = library.get(job.item)
    release = press_assembler.assemble(item, config.root, now, kind=job.template)
    _errors(release.problems)
    rendered = press_renderer.render_release(release, config, now=now)
    files = {
        "release.md": rendered.markdown.encode(),
        "release.html": rendered.html.encode(),
        "release.txt": rendered.text.encode(),
        "release.docx": rendered.docx,
    }
    return Payload(job.id, job.channel, job.item, job.template, release.headline, rendered.text, files=files)


def _post(job, config, library, now) -> Payload:
    item = None if job.item == linkedin_plan.FIGURES_ID else library.get(job.item)
    planned = linkedin_plan.Planned(item, job.template)
    vocabularies = config.vocabularies
    figures = stats.compute(library, now, vocabularies.fields_of_action, vocabularies.blog_categories)
    rendered = linkedin_renderer.render_drafts([planned], library, config, figures, now=now)
    _errors(rendered.problems)
    draft = rendered.drafts[0]
    body = linkedin_renderer.request_body(draft, rendered.author) if rendered.author else None
    return Payload(job.id, job.channel, job.item, job.template, draft.title, draft.text, link=draft.link, body=body)
