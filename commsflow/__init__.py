"""commsflow — the content pipeline of a communications team."""

__version__ = "0.1.0"
