"""Newsletter issues: MJML → e-mail HTML, web version, plain text and the .eml, from
``templates/newsletter/``; one job per issue campaign, sent at its ``send_at``."""

from __future__ import annotations

from commsflow.channels.base import FRONT_MATTER, Channel, RenderContext, Rendition


class Newsletter(Channel):
    name = "newsletter"
    title = "Newsletter"
    look = "newsletter"
    frame = "email.html"
    archived = True
    templates = "newsletter"
    kinds = ("newsletter",)
    publishers = ("outbox", "email", "listmonk")

    def sources(self, job, context: RenderContext) -> tuple[str, ...] | None:
        """The campaign file, the files of the items in the issue and of what they name;
        which items those are depends on every item's front matter (dates, status)."""
        from commsflow.assemblers.newsletter import assemble

        campaign = context.campaigns.get(job.item, "newsletter")
        if campaign is None:
            return None
        issue = assemble(campaign, context.campaigns, context.library, context.config.zone)
        return _sources(campaign, issue, context)

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow.assemblers.newsletter import assemble
        from commsflow.publishers.base import Payload
        from commsflow.renderers import newsletter as renderer

        config = context.config
        campaign = context.campaigns.get(job.item, "newsletter")
        if campaign is None:
            from commsflow.channels.base import missing_item

            return Rendition(job, None, problems=[missing_item(job)])
        issue = assemble(campaign, context.campaigns, context.library, config.zone)
        if any(p.is_error for p in issue.problems):
            return Rendition(job, None, problems=list(issue.problems))
        rendered = renderer.render_issue(issue, config, now=job.planned)
        problems = list(rendered.problems)
        if rendered.errors:
            return Rendition(job, None, problems=problems)
        message = rendered.message
        if config.newsletter.list_address:
            del message["To"]
            message["To"] = config.newsletter.list_address
        subject = campaign.spec.subject
        payload = Payload(
            job.id, self.name, job.item, job.template, subject, rendered.text,
            link=renderer.web_url(config, job.item), message=message,
            files={"email.html": rendered.email_html.encode(), "email.txt": rendered.text.encode()},
            when=campaign.spec.send_at,
        )  # fmt: skip
        build = config.path("build")
        # The events' calendar files the issue links to are the ics channel's (every event in
        # an issue is signed off, so it has one): two renditions writing one file would leave
        # whichever was rendered last.
        events = build / "events"
        files = {
            path.relative_to(build).as_posix(): data
            for path, data in renderer.output_files(rendered, config).items()
            if path.parent != events
        }
        sources = _sources(campaign, issue, context)
        return Rendition(job, payload, files, f"Betreff: {subject}\n\n{rendered.text}", problems, sources, subject)


def _sources(campaign, issue, context: RenderContext) -> tuple[str, ...]:
    files = {path for entry in issue.entries for path in context.item_files(entry.item.slug)}
    return (campaign.path, *sorted(files), FRONT_MATTER)


CHANNEL = Newsletter()
