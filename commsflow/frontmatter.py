"""Split a content file into YAML front matter and Markdown body.

The YAML is read with libyaml (``CSafeLoader``) with implicit timestamps switched off:
dates stay text so that one parser (``commsflow.dates``) reads them all and reports
impossible or ambiguous dates in words an editor understands. Line numbers are only
worked out when there is a problem to report, by composing the YAML node tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from commsflow.errors import Problem
from commsflow.i18n import N_, _


class _Loader(yaml.CSafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(slots=True)
class Source:
    """A decoded content file: front matter text, body and where the YAML starts."""

    path: str
    yaml_text: str
    body: str
    yaml_first_line: int  # 1-based line of the first YAML line in the file
    label: str = "front matter"  # what the YAML is called in messages


# What is said of a broken YAML block, by what it is (Source.label).
_SAID = {
    "front matter": {
        "tab": N_("front matter is indented with a tab character (Tabulator)"),
        "yaml": N_("front matter is not valid YAML: {reason}"),
        "lines": N_("front matter must be 'field: value' lines"),
    },
    "file": {
        "tab": N_("file is indented with a tab character (Tabulator)"),
        "yaml": N_("file is not valid YAML: {reason}"),
        "lines": N_("file must be 'field: value' lines"),
    },
}


def _said(source: Source, what: str) -> str:
    return _(_SAID.get(source.label, _SAID["front matter"])[what])


class SourceError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.format())
        self.problem = problem


def decode(path: str, raw: bytes) -> str:
    """UTF-8 text (a BOM is dropped), with CRLF and CR line ends made LF."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            Problem(
                path,
                _("not UTF-8 text (byte {byte} cannot be read)").format(byte=f"0x{raw[exc.start]:02x}"),
                line=line,
                hint=_("save the file as UTF-8 in your editor (Windows-1252/Latin-1 are not accepted)"),
            )
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def split(path: str, text: str) -> Source:
    if not text.startswith("---\n"):
        raise SourceError(
            Problem(
                path,
                _("no front matter"),
                line=1,
                hint=_("start the file with a line '---', then the fields (title: …, status: …), then '---'"),
            )
        )
    end = text.find("\n---", 3)
    while end != -1 and text[end + 4 : end + 5] not in ("\n", ""):
        end = text.find("\n---", end + 4)
    if end == -1:
        raise SourceError(
            Problem(path, _("front matter is not closed"), line=1, hint=_("add a line '---' after the last field"))
        )
    body = text[end + 5 :]
    return Source(path=path, yaml_text=text[4 : end + 1], body=body, yaml_first_line=2)


def parse(source: Source) -> dict:
    try:
        data = yaml.load(source.yaml_text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        tab = _tab_line(source.yaml_text, exc)
        if tab is not None:
            raise SourceError(
                Problem(
                    source.path,
                    _said(source, "tab"),
                    line=source.yaml_first_line + tab,
                    hint=_("indent with spaces, not with the Tab key: replace the tab by two spaces"),
                )
            ) from None
        line = source.yaml_first_line + mark.line if mark else None
        reason = exc.problem or _("unreadable YAML")
        raise SourceError(
            Problem(
                source.path,
                _said(source, "yaml").format(reason=reason),
                line=line,
                hint=_("check indentation, and put values containing ':' or starting with quotes in quotes"),
            )
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - libyaml reports marks for all we know of
        raise SourceError(Problem(source.path, _said(source, "yaml").format(reason=exc), line=1)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SourceError(
            Problem(
                source.path,
                _said(source, "lines"),
                line=source.yaml_first_line,
                hint=_("write each field on its own line, e.g. 'title: Mein Titel'"),
            )
        )
    return data


def _tab_line(text: str, exc: yaml.MarkedYAMLError) -> int | None:
    """The 0-based line whose indentation holds the tab that broke the YAML, if a tab did.

    A tab after ``key:`` is fine in YAML; one in the indentation is not, and libyaml
    reports it in its own words ("cannot start any token") at that line."""
    lines = text.split("\n")
    marks = [mark.line for mark in (exc.problem_mark, exc.context_mark) if mark is not None]
    for number in marks:
        if number < len(lines) and "\t" in _indent(lines[number]):
            return number
    if "tab" in (exc.problem or ""):
        for number, line in enumerate(lines):
            if "\t" in _indent(line):
                return number
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def document(path: str, raw: bytes) -> Source:
    """A file that is YAML as a whole (campaigns, feed lists), ready for :func:`parse`."""
    return Source(path=path, yaml_text=decode(path, raw), body="", yaml_first_line=1, label="file")


def line_finder_for_file(path, name: str):
    """``line_finder`` for the file at ``path`` (shown as ``name``), read again from disk.

    Line numbers are only needed when there is a problem to point at, so they are
    worked out from the file then, never during a clean load."""
    with open(path, "rb") as handle:
        raw = handle.read()
    return line_finder(split(name, decode(name, raw)))


def line_finder(source: Source):
    """A function mapping a field path (``('quotes', 1, 'name')``) to its line in the file."""
    root = yaml.compose(source.yaml_text, Loader=_Loader)

    def line_of(loc: tuple) -> int | None:
        node, best = root, None
        for part in loc:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                for key, value in node.value:
                    if key.value == part:
                        best, node = key.start_mark.line, value
                        break
                else:
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                best = node.start_mark.line
            else:
                break
        if best is None:
            return 1  # a missing top-level field: point at the front matter's opening line
        return source.yaml_first_line + best

    return line_of
