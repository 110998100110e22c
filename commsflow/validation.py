"""Pydantic validation errors as problems an editor can act on.

Pydantic reports every error of a model at once; we turn each into one
:class:`Problem` with the field path as the editor wrote it (``quotes[1].name``), the
line in the source where we can find it, a plain message and, for typos, the
closest allowed value.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable

from pydantic import BaseModel, ValidationError

from commsflow.errors import Problem, closest
from commsflow.i18n import N_, _

_TYPE_NAMES = {
    "str": N_("text"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "list": N_("a list"),
    "dict": N_("a mapping (key: value lines)"),
    "NoneType": N_("nothing"),
    "date": N_("a date"),
    "datetime": N_("a date and time"),
}


def field_path(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _model_at(model: type[BaseModel] | None, loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc`` (for suggesting field names)."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _first_model(info.annotation)
    return model


def _first_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _first_model(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _first_model(arg)
            if found:
                return found
    return None


def _describe(value: object) -> str:
    name = type(value).__name__
    return _(_TYPE_NAMES[name]) if name in _TYPE_NAMES else name


def _message(error: dict, model: type[BaseModel] | None, toml: bool) -> tuple[str, str | None]:
    kind = error["type"]
    value = error.get("input")
    loc = error["loc"]
    name = loc[-1] if loc else ""
    ctx = error.get("ctx") or {}
    if kind == "missing":
        if not toml:
            return _("missing required field"), _("add `{field}:` to the front matter").format(field=name)
        if len(loc) == 1 and _first_model(
            model.model_fields[name].annotation if model and name in model.model_fields else None
        ):
            return _("missing required section"), _("add a section [{section}]").format(section=name)
        section = ".".join(str(part) for part in loc[:-1])
        if section:
            hint = _("add `{key} = …` under [{section}]").format(key=name, section=section)
        else:
            hint = _("add `{key} = …`").format(key=name)
        return _("missing required setting"), hint
    if kind == "extra_forbidden":
        holder = _model_at(model, loc[:-1])
        guess = closest(str(name), holder.model_fields) if holder else None
        hint = _("did you mean `{guess}`?").format(guess=guess) if guess else _("remove it or check the spelling")
        return _("unknown field"), hint
    if kind == "string_type":
        return _("expected text, got {kind}").format(kind=_describe(value)), _("put the value in quotes")
    if kind in ("list_type", "tuple_type"):
        message = _("expected a list, got {kind}").format(kind=_describe(value))
        if toml:
            return message, _('write it as ["{value}"]').format(value=value)
        return message, _("write it as [{value}] or as '- ' lines").format(value=value)
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("expected a whole number, got {value}").format(value=repr(value)), None
    if kind in ("bool_type", "bool_parsing"):
        return _("expected true or false, got {value}").format(value=repr(value)), None
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return _("expected a mapping (key: value lines), got {kind}").format(kind=_describe(value)), None
    if kind == "literal_error":
        allowed = [a.strip(" '") for a in ctx.get("expected", "").replace(" or ", ", ").split(",")]
        allowed = [a for a in allowed if a]
        guess = closest(str(value), allowed) if isinstance(value, str) else None
        hint = _("did you mean {guess}?").format(guess=repr(guess)) if guess else None
        return _("{value} is not allowed; use one of: {allowed}").format(
            value=repr(value), allowed=", ".join(allowed)
        ), hint
    if kind == "too_short":
        return _("must not be empty"), _("give at least one entry")
    if kind == "string_too_short":
        return _("must not be empty"), None
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(ctx.get("pattern", ""))
        return _("{value} has the wrong form").format(value=repr(value)), _(hint) if hint else None
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        hint = None
        if " — " in message:
            message, hint = message.split(" — ", 1)
        return message, hint
    return error["msg"], None


_PATTERN_HINTS: dict[str, str] = {}


def register_pattern_hint(pattern: str, hint: str) -> None:
    """``hint``: marked with ``N_`` where it is registered (at import); translated when shown."""
    _PATTERN_HINTS[pattern] = hint


def problems_from_validation_error(
    exc: ValidationError,
    path: str,
    line_of: Callable[[tuple], int | None],
    model: type[BaseModel] | None = None,
    toml: bool = False,
) -> list[Problem]:
    """``toml``: the source is a TOML file, so hints speak of sections and ``key = value``."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message, hint = _message(error, model, toml)
        problems.append(
            Problem(path=path, message=message, line=line_of(loc), field=field_path(loc) or None, hint=hint)
        )
    return problems
