"""Instagram packages for event steps: a picture rendered from ``templates/instagram/<kind>.html``
(a feed post for the save-the-date, a story for the recap), the caption from
``templates/instagram/<kind>.txt`` (which also sets the picture's alt text), and a
``package.json`` describing them, in ``build/instagram/<item>--<kind>/``. Instagram has no drafts
through its API: the package is what a person posts by hand — or, where configured, the
``instagram`` publisher through the Graph API."""

from __future__ import annotations

import json

from commsflow.channels.base import DRAWN, Channel, RenderContext, Rendition, missing_item
from commsflow.i18n import _

# What each kind is on Instagram and its picture's size in pixels.
FORMATS = {"save-the-date": ("feed", 1080, 1350), "recap": ("story", 1080, 1920)}


class Instagram(Channel):
    name = "instagram"
    title = "Instagram"
    templates = "instagram"
    kinds = tuple(FORMATS)
    publishers = ("outbox", "instagram")
    steps = True

    def sources(self, job, context: RenderContext) -> tuple[str, ...]:
        return context.item_files(job.item)

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow.errors import Problem, Severity
        from commsflow.links import item_url
        from commsflow.publishers.base import Payload
        from commsflow.renderers import instagram as renderer
        from commsflow.renderers.linkedin import merge_hashtags, tidy
        from commsflow.renderers.templating import environment, explained, render

        config = context.config
        item = context.library.get(job.item)
        if item is None:
            return Rendition(job, None, problems=[missing_item(job)])
        problems: list[Problem] = []
        if item.kind != "event":
            problems.append(
                Problem(
                    job.source,
                    _("{item} is not an event: Instagram packages are made for event steps").format(item=job.item),
                    hint=_("plan Instagram steps in an event campaign"),
                )
            )
            return Rendition(job, None, problems=problems, sources=self.sources(job, context))
        shape, width, height = FORMATS[job.template]
        meta = item.meta
        venue = meta.venue
        own_site = config.links.public_url
        env = environment(config)
        page = {
            "kind": job.template,
            "format": shape,
            "width": width,
            "height": height,
            "organisation": config.organisation.model_dump(),
            "event": {
                "title": meta.title,
                "summary": meta.summary,
                "start": meta.start,
                "end": meta.end,
                "all_day": meta.all_day,
                "format": meta.format,
                "venue": venue.line if venue else None,
                "venue_name": venue.name if venue else None,
                "city": venue.city if venue else None,
            },
            "hashtags": merge_hashtags(config.social.hashtags, meta.tags, limit=renderer.HASHTAG_LIMIT),
            "now": job.planned,
        }
        caption_template = f"{self.templates}/{job.template}.txt"
        shown_template = f"{config.paths.templates}/{caption_template}"
        with explained(env, caption_template):
            # Rendered once: the caption is the module's text, the alt text what it sets.
            module = env.get_template(caption_template).make_module(page)
        caption = tidy(str(module))
        alt = " ".join(str(getattr(module, "alt", "")).split())
        for message, hint, is_error in renderer.caption_findings(caption):
            problems.append(
                Problem(shown_template, message, hint=hint, severity=Severity.ERROR if is_error else Severity.WARNING)
            )
        if not alt:
            problems.append(
                Problem(
                    shown_template,
                    _("the template sets no alt text for the picture"),
                    hint=_('add {% set alt = "…" %} describing the picture (date, place, title)'),
                )
            )
        html = render(env, f"{self.templates}/{job.template}.html", **page)
        folder = f"{self.name}/{job.item}--{job.template}"
        files: dict[str, bytes | str] = {f"{folder}/caption.txt": caption + "\n", f"{folder}/picture.html": html}
        image = None
        try:
            image = renderer.picture(html, width, height, kept=config.path("state") / "pictures")
        except renderer.NoPicture as exc:
            problems.append(Problem(job.source, exc.message, hint=exc.hint, severity=Severity.WARNING))
        package = {
            "format": shape,
            "width": width,
            "height": height,
            "image": "image.jpg" if image else None,
            "image_url": f"{own_site}{folder}/image.jpg" if image else None,
            "alt": alt,
            "caption": caption,
            "hashtags": renderer.hashtags_in(caption),
            "link": item_url(item, config),
            "planned": job.planned.isoformat(),
        }
        files[f"{folder}/package.json"] = json.dumps(package, ensure_ascii=False, indent=2) + "\n"
        payload = None
        if image is not None:
            files[f"{folder}/image.jpg"] = image
            if not any(problem.is_error for problem in problems):
                payload = Payload(
                    job.id,
                    self.name,
                    job.item,
                    job.template,
                    meta.title,
                    caption,
                    package["link"],
                    package,
                    files={"picture.html": html, f"image{DRAWN}": image},
                )
        return Rendition(job, payload, files, caption, problems, self.sources(job, context), meta.title)


CHANNEL = Instagram()
