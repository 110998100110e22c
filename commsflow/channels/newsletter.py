"""Newsletter issues: MJML → e-mail HTML, web version, plain text and the .eml, from
``templates/newsletter/``; one job per issue campaign, sent at its ``send_at``."""

from __future__ import annotations

from commsflow.channels.base import Channel, RenderContext, Rendition


class Newsletter(Channel):
    name = "newsletter"
    title = "Newsletter"
    templates = "newsletter"
    kinds = ("newsletter",)
    publishers = ("outbox", "email")

    def sources(self, job, context: RenderContext):
        return None  # an issue selects from the whole library by date

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
        )  # fmt: skip
        build = config.path("build")
        files = {
            path.relative_to(build).as_posix(): data for path, data in renderer.output_files(rendered, config).items()
        }
        sources = (campaign.path, *(entry.item.path for entry in issue.entries))
        return Rendition(job, payload, files, f"Betreff: {subject}\n\n{rendered.text}", problems, sources, subject)


CHANNEL = Newsletter()
