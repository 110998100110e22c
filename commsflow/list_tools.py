"""The list tools a newsletter issue can be handed to, and what each fills in for every reader.

commsflow keeps no subscribers: a list server or newsletter service sends the issue, one copy
per reader. Each writes that reader's own unsubscribe address where its placeholder stands in
the e-mail, and its own ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 2369,
RFC 8058): the one-click unsubscribe a mail client offers needs an address that names the
reader, which only the sender of each copy knows. ``[newsletter] list_tool`` says which tool's
placeholders the e-mail carries; ``none`` links every reader to ``unsubscribe_url``.

The placeholders, from each tool's own documentation:

* listmonk (listmonk.app/docs/templating): ``{{ UnsubscribeURL }}``, and ``{{ MessageURL }}``
  for the reader's copy on the web;
* Mailchimp: ``*|UNSUB|*`` and ``*|ARCHIVE|*``;
* CleverReach (own templates: a link to ``{UNSUBSCRIBE}``);
* MailerLite: ``{$unsubscribe}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ListTool:
    name: str
    unsubscribe: str | None  # what the tool replaces with each reader's unsubscribe address; None: none
    web_version: str | None = None  # … with the address of the reader's copy on the web; None: the web.html


TOOLS = {
    "none": ListTool("none", None),
    "listmonk": ListTool("listmonk", "{{ UnsubscribeURL }}", "{{ MessageURL }}"),
    "mailchimp": ListTool("mailchimp", "*|UNSUB|*", "*|ARCHIVE|*"),
    "cleverreach": ListTool("cleverreach", "{UNSUBSCRIBE}"),
    "mailerlite": ListTool("mailerlite", "{$unsubscribe}"),
}
NONE = TOOLS["none"]


def chosen(config) -> ListTool:
    """The list tool of ``config``: ``[newsletter] list_tool``; when that is not set, listmonk
    where listmonk sends the issues (``[publishing] newsletter = "listmonk"``), else none."""
    name = config.newsletter.list_tool
    if name is None:
        name = "listmonk" if config.publishing.newsletter == "listmonk" else "none"
    return TOOLS[name]


def placeholders(tool: ListTool) -> frozenset[str]:
    """The addresses in the e-mail that the tool fills in: not addresses yet, so not checked as such."""
    return frozenset(value for value in (tool.unsubscribe, tool.web_version) if value)
