"""Press releases, invitations and recaps: Markdown, print HTML, Word and plain text from
``templates/press/``, previewed in ``build/press/<item>--<kind>/``; the dateline is the
job's planned day."""

from __future__ import annotations

from datetime import datetime

from commsflow.channels.base import Channel, RenderContext, Rendition, missing_item
from commsflow.i18n import N_


class Press(Channel):
    name = "press"
    title = N_("Press")
    look = "release"
    frame = "release.html"
    templates = "press"
    kinds = ("invitation", "recap", "announcement", "funding-call")
    publishers = ("outbox", "email")
    steps = one_off = True

    def default_kind(self, item, moment: datetime) -> str | None:
        from commsflow.assemblers.press import default_kind

        return default_kind(item, moment) or "announcement"

    def draft_kinds(self, item, now: datetime) -> tuple[str, ...]:
        if item.meta.press is None:
            return ()
        return (self.default_kind(item, now),)

    def sources(self, job, context: RenderContext) -> tuple[str, ...]:
        return context.item_files(job.item)

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow.assemblers import press as assembler
        from commsflow.publishers.base import Payload
        from commsflow.renderers import press as renderer

        config = context.config
        item = context.library.get(job.item)
        if item is None:
            return Rendition(job, None, problems=[missing_item(job)])
        release = assembler.assemble(item, config.root, job.planned, kind=job.template)
        if release.errors:
            return Rendition(job, None, problems=list(release.problems))
        rendered = renderer.render_release(release, config, now=job.planned)
        attachments = {
            "release.md": rendered.markdown.encode(),
            "release.html": rendered.html.encode(),
            "release.txt": rendered.text.encode(),
            "release.docx": rendered.docx,
        }
        payload = Payload(job.id, self.name, job.item, job.template, release.headline, rendered.text, files=attachments)
        folder = release_folder(item.slug, job.template)
        files: dict[str, bytes | str] = {f"{folder}/{name}": data for name, data in attachments.items()}
        return Rendition(
            job, payload, files, rendered.markdown, list(release.problems), self.sources(job, context), release.headline
        )


def release_folder(slug: str, kind: str) -> str:
    """Where a release is previewed, relative to the build folder."""
    return f"press/{slug}--{kind}"


CHANNEL = Press()
