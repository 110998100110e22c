"""LinkedIn posts: the text from ``templates/linkedin/`` and the Posts API request body."""

from __future__ import annotations

from datetime import datetime

from commsflow.channels._social import SocialChannel


class LinkedIn(SocialChannel):
    name = "linkedin"
    title = "LinkedIn"
    publishers = ("outbox", "linkedin")
    request_body = True

    def draft_kinds(self, item, now: datetime) -> tuple[str, ...]:
        from commsflow.assemblers import linkedin as plan

        return plan.kinds_for(item, now, now.tzinfo)


CHANNEL = LinkedIn()
