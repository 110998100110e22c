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

_TYPE_NAMES = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "dict": "a mapping (key: value lines)",
    "NoneType": "nothing",
    "date": "a date",
    "datetime": "a date and time",
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
    return _TYPE_NAMES.get(name, name)


def _message(error: dict, model: type[BaseModel] | None, toml: bool) -> tuple[str, str | None]:
    kind = error["type"]
    value = error.get("input")
    loc = error["loc"]
    name = loc[-1] if loc else ""
    ctx = error.get("ctx") or {}
    if kind == "missing":
        if not toml:
            return "missing required field", f"add `{name}:` to the front matter"
        if len(loc) == 1 and _first_model(
            model.model_fields[name].annotation if model and name in model.model_fields else None
        ):
            return "missing required section", f"add a section [{name}]"
        section = ".".join(str(part) for part in loc[:-1])
        return "missing required setting", f"add `{name} = …`" + (f" under [{section}]" if section else "")
    if kind == "extra_forbidden":
        holder = _model_at(model, loc[:-1])
        guess = closest(str(name), holder.model_fields) if holder else None
        hint = f"did you mean `{guess}`?" if guess else "remove it or check the spelling"
        return "unknown field", hint
    if kind == "string_type":
        return f"expected text, got {_describe(value)}", "put the value in quotes"
    if kind in ("list_type", "tuple_type"):
        if toml:
            return f"expected a list, got {_describe(value)}", f'write it as ["{value!s}"]'
        return f"expected a list, got {_describe(value)}", f"write it as [{value!s}] or as '- ' lines"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {value!r}", None
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {value!r}", None
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {_describe(value)}", None
    if kind == "literal_error":
        allowed = [a.strip(" '") for a in ctx.get("expected", "").replace(" or ", ", ").split(",")]
        allowed = [a for a in allowed if a]
        guess = closest(str(value), allowed) if isinstance(value, str) else None
        hint = f"did you mean {guess!r}?" if guess else None
        return f"{value!r} is not allowed; use one of: {', '.join(allowed)}", hint
    if kind == "too_short":
        return "must not be empty", "give at least one entry"
    if kind == "string_too_short":
        return "must not be empty", None
    if kind == "string_pattern_mismatch":
        return f"{value!r} has the wrong form", _PATTERN_HINTS.get(ctx.get("pattern", ""))
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
        hint = None
        if " — " in message:
            message, hint = message.split(" — ", 1)
        return message, hint
    return error["msg"], None


_PATTERN_HINTS: dict[str, str] = {}


def register_pattern_hint(pattern: str, hint: str) -> None:
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
