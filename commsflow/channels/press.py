"""Press releases, invitations and recaps: Markdown, print HTML, Word, a tagged PDF, the text
version in the agencies' wire style and the photos, with a zip of them all for the press list,
from ``templates/press/``, previewed in ``build/press/<item>--<kind>/``; the dateline is the
job's planned day. The lint's formal-address and date checks read every form."""

from __future__ import annotations

from datetime import datetime

from commsflow.channels.base import Channel, RenderContext, Rendition, missing_item
from commsflow.i18n import N_


class Press(Channel):
    name = "press"
    title = N_("Press")
    look = "release"
    frame = "release.html"
    carries_embargo = True
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
        """The item's files and its press photos' (a photo replaced under the same name is a
        new release pack)."""
        import posixpath

        from commsflow import media

        item = context.library.get(job.item)
        press = item.meta.press if item is not None else None
        if press is None or not press.photos:
            return context.item_files(job.item)
        folder = posixpath.dirname(item.path)
        photos = (posixpath.normpath(posixpath.join(folder, p.src)) for p in press.photos if media.is_local(p.src))
        return (*context.item_files(job.item), *photos)

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow import lint
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
        folder = release_folder(item.slug, job.template)
        # Every form, the photos with their credits written in, and all of them in one zip.
        attachments = renderer.pack(rendered, folder.rsplit("/", 1)[-1])
        problems = [*release.problems, *rendered.problems]
        problems += lint.release_problems(item, config.root, renderer.format_texts(rendered))
        # The title is the e-mail's subject: „Sperrfrist: … – Presseeinladung: headline“.
        payload = Payload(job.id, self.name, job.item, job.template, rendered.subject, rendered.text, files=attachments)
        files: dict[str, bytes | str] = {f"{folder}/{name}": data for name, data in attachments.items()}
        return Rendition(job, payload, files, rendered.markdown, problems, self.sources(job, context), release.headline)


def release_folder(slug: str, kind: str) -> str:
    """Where a release is previewed, relative to the build folder."""
    return f"press/{slug}--{kind}"


CHANNEL = Press()
