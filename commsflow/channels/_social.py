"""What the text channels share: a post rendered from the LinkedIn templates
(``templates/linkedin/``), previewed as ``build/<channel>/<item>--<kind>.md``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from commsflow.channels.base import FRONT_MATTER, Channel, RenderContext, Rendition, missing_item
from commsflow.i18n import _
from commsflow.media import Prepared, Remote

POST_KINDS = ("article", "funding-call", "news", "save-the-date", "reminder", "recap", "figures")


class SocialChannel(Channel):
    templates = "linkedin"
    kinds = POST_KINDS
    steps = slots = one_off = social = feed = True
    request_body = False  # the LinkedIn Posts API body goes with the payload and the preview

    def default_kind(self, item, moment: datetime) -> str | None:
        from commsflow.assemblers import linkedin as plan

        if item.kind == "event":
            return "save-the-date" if plan.starts(item, moment.tzinfo) > moment else "recap"
        kinds = plan.kinds_for(item, moment, moment.tzinfo)
        return kinds[0] if kinds else None

    def sources(self, job, context: RenderContext) -> tuple[str, ...]:
        from commsflow.assemblers import linkedin as plan

        if job.item == plan.FIGURES_ID:
            return (FRONT_MATTER,)  # the programme's figures count projects and posts by their fields
        return context.item_files(job.item)

    def render(self, job, context: RenderContext) -> Rendition:
        from commsflow.assemblers import linkedin as plan
        from commsflow.publishers.base import Payload
        from commsflow.renderers import linkedin as renderer

        config = context.config
        item = None if job.item == plan.FIGURES_ID else context.library.get(job.item)
        if item is None and job.item != plan.FIGURES_ID:
            return Rendition(job, None, problems=[missing_item(job)])
        draft_only = job.campaign == DRAFT_CAMPAIGN
        planned = plan.Planned(item, job.template, draft=item is not None and item.status not in plan.SIGNED_OFF)
        figures = context.figures(job.planned) if item is None else None
        step = context.step(job)
        rendered = renderer.render_drafts(
            [planned],
            context.library,
            config,
            figures,
            now=job.planned,
            source=self.name,
            own_limit=self.own_limit(step, config),
        )
        draft = rendered.drafts[0]
        problems = [p for p in rendered.problems if self.request_body or p.field != "social.linkedin_author"]
        image = self.image(draft, config, problems)
        text, body = self.shape(draft, rendered, config, image, step)
        attached = {f"image{image.suffix}": image.data} if image else {}
        payload = None
        if not any(problem.is_error for problem in problems):
            payload = Payload(
                job.id, self.name, job.item, job.template, draft.title, text, draft.link, body, files=attached
            )
        header = renderer.draft_markdown(
            draft if text == draft.text else replace(draft, text=text),
            config,
            now=job.planned,
            planned=None if draft_only else job.planned,
            channel=self.title,
            shown=self.counted(text, config),
        )
        name = f"{self.name}/{draft.name}"
        files: dict[str, bytes | str] = {f"{name}.md": header}
        if body is not None:
            import json

            files[f"{name}.json"] = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
        if image:
            files[f"{name}{image.suffix}"] = image.data  # the picture as the channel gets it
        return Rendition(job, payload, files, text, problems, self.sources(job, context), draft.title)

    # The largest image the channel takes: bytes, pixels on the longer side (media.prepared).
    image_limits: tuple[int, int] = (5_000_000, 4096)
    alt_limit = 4086  # characters of alt text it takes (LinkedIn's altText)

    def image(self, draft, config, problems: list) -> Prepared | Remote | None:
        """The item's image as the channel takes it (scaled and re-encoded to its limits; an
        https image as its address, fetched when the post is sent — a build reads nothing from
        the web); None without one, or with a problem about it in ``problems``."""
        if not draft.image:
            return None
        from commsflow import media
        from commsflow.errors import Problem

        alt = draft.image["alt"]
        if len(alt) > self.alt_limit:
            problems.append(
                Problem(
                    draft.source,
                    _("the alt text has {count} characters; {channel} takes {limit}").format(
                        count=len(alt), channel=self.shown_title(), limit=self.alt_limit
                    ),
                    field="image.alt",
                    hint=_("shorten it to what the picture shows that the text does not say"),
                )
            )
        src = draft.image["src"]  # a local image is checked by the drafts and named from the project folder
        if not media.is_local(src):
            return media.Remote(src)
        try:
            max_bytes, max_side = self.image_limits
            return media.prepared((config.root / src).read_bytes(), max_bytes=max_bytes, max_side=max_side)
        except media.ImageRefused as exc:
            problems.append(Problem(draft.source, exc.message, field=media.FIELD, hint=exc.hint))
        except OSError as exc:
            problems.append(Problem(draft.source, exc.strerror or str(exc), field=media.FIELD))
        return None

    def shape(self, draft, rendered, config, image: Prepared | Remote | None, step=None) -> tuple[str, dict | None]:
        """The text that goes out and the API body sent with it (written beside the preview as
        .json): the draft's text, and LinkedIn's Posts API body where the channel sends one.
        ``step``: what plans the job (campaign step or slot; None for one-offs and drafts)."""
        from commsflow.renderers import linkedin as renderer

        body = None
        if self.request_body and rendered.with_request(draft):
            body = renderer.request_body(draft, rendered.author)
        return draft.text, body

    def own_limit(self, step=None, config=None):
        """How the channel counts an item's own text for it (``social.<name>``) and how much it
        shows: ``(count, limit, strict)``, or None where the draft's own checks say all.
        ``step``: what plans the job (see :meth:`shape`); ``config``: the project's settings."""
        return None

    def counted(self, text: str, config=None) -> dict | None:
        """How the preview counts the text where the channel counts differently from LinkedIn
        (``characters``, ``limit``, ``cut``; see renderers.linkedin.draft_markdown)."""
        return None


DRAFT_CAMPAIGN = "entwurf"  # the campaign of a draft job: an item's preview no campaign plans yet
