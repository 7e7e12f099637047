"""The JSON Schema of the spec: loading it, and stage one of validation.

Every schema violation becomes one located :class:`~auditor.errors.SpecError` with a
message written for people (``must be a number between 0 and 1, got 'high'``), not
jsonschema's own wording. All violations are collected, not only the first.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from auditor.errors import Location, SpecError
from auditor.spec.suggest import closest, did_you_mean
from auditor.spec.yamlio import Document

# auditor/schemas links to the top-level schemas/ folder, and ships inside the wheel
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "spec.schema.json"

MSG_UNKNOWN_KEY = "unknown key '{key}'{hint}"
MSG_BELONGS = " ('{key}' belongs under {where})"
MSG_ENUM = "must be one of {options}, got {got}{hint}"
# A long list is noise once the likely intended name is known; `auditor schema` has it all.
MSG_ENUM_LONG = "unknown name {got}{hint}; `auditor schema` lists all {n} allowed names"
ENUM_LISTED_MAX = 8  # longer enums are listed in full only when no name is close
MSG_TYPE = "must be {expected}, got {got}"
MSG_RANGE = "must be {expected}, got {got}"
MSG_REQUIRED = "missing required key '{key}'"
MSG_REQUIRED_VERSION = "missing required key 'version' (start the spec with 'version: 1')"
MSG_VERSION = "unsupported spec version {got} (only 1 exists)"
MSG_VERSION_TEXT = "the version must be the number 1, got the text {got}"
MSG_CONST = "must be {value}, got {got}"
MSG_NEEDS_MEASURE = "a criterion needs 'metric' or 'check'"
MSG_NEEDS_BOUND = "a criterion needs a bound: 'at_least' or 'at_most'"
MSG_ANY_OF = "must match one of the allowed forms"
MSG_PATTERN = "must match the pattern {pattern}, got {got}"
MSG_MIN_LENGTH = "must not be empty"
MSG_UNIQUE = "must not repeat items (repeated: {items})"
MSG_MIN_ITEMS = "must have at least {n} item(s), got {got}"
MSG_MAX_ITEMS = "must have at most {n} item(s), got {got}"
MSG_GENERIC = "{message}"

# Patterns in the schema, explained in words.
PATTERN_WORDS: dict[str, str] = {
    "^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$": (
        "a name of 1 to 80 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "^(auto|cpu|mps|cuda(:[0-9]+)?)$": "one of auto, cpu, mps, cuda, cuda:N",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date written YYYY-MM-DD",
}

TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}


@lru_cache(maxsize=1)
def _schema_cached() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The spec's JSON Schema (a fresh copy; the file is read once)."""
    return json.loads(_schema_cached())


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def resolve_ref(schema: dict, root: dict) -> dict:
    """Follow a local ``$ref`` (``#/$defs/...``) to its subschema."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        if not ref.startswith("#/"):  # pragma: no cover - the schema only has local refs
            break
        node: Any = root
        for part in ref[2:].split("/"):
            node = node[part]
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema


def schema_default(*path: str) -> Any:
    """The schema's default of the property at ``path`` (e.g. ``"data", "split", "seed"``)."""
    root = load_schema()
    node = root
    for key in path:
        node = resolve_ref(node, root)["properties"][key]
    return resolve_ref(node, root)["default"]


# --------------------------------------------------------------------------- formatting
def fmt_value(value: Any) -> str:
    """A value as the user would write it: 'text', 3, 0.5, true, null, a list, a mapping."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return "'" + text.replace("\n", "\\n") + "'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)  # pragma: no cover


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; anything else unchanged."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def sorted_plain(values) -> list[Any]:
    """Plain values, sorted (as text when their types do not compare)."""
    plain_values = [plain(v) for v in values]
    try:
        return sorted(plain_values)
    except TypeError:
        return sorted(plain_values, key=str)


def fmt_number(value: float) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def range_words(schema: dict) -> str:
    """'between 0 and 1', 'greater than 0 and at most 0.5', 'at least 1', or ''."""
    lo = hi = None
    if "minimum" in schema:
        lo = ("at least", schema["minimum"], True)
    if "exclusiveMinimum" in schema:
        lo = ("greater than", schema["exclusiveMinimum"], False)
    if "maximum" in schema:
        hi = ("at most", schema["maximum"], True)
    if "exclusiveMaximum" in schema:
        hi = ("less than", schema["exclusiveMaximum"], False)
    if lo and hi:
        if lo[2] and hi[2]:
            return f"between {fmt_number(lo[1])} and {fmt_number(hi[1])}"
        return f"{lo[0]} {fmt_number(lo[1])} and {hi[0]} {fmt_number(hi[1])}"
    if lo:
        return f"{lo[0]} {fmt_number(lo[1])}"
    if hi:
        return f"{hi[0]} {fmt_number(hi[1])}"
    return ""


def expected_words(schema: dict) -> str:
    """What a value must be, in words: 'a number between 0 and 1', 'a string or null'."""
    types = schema.get("type")
    if types is None and "enum" in schema:
        return "one of " + ", ".join(fmt_enum(v) for v in schema["enum"])
    if isinstance(types, str):
        types = [types]
    types = list(types or [])
    bounds = range_words(schema)
    words = []
    for t in types:
        word = TYPE_WORDS.get(t, t)
        if t in ("number", "integer") and bounds:
            word += " " + bounds
        words.append(word)
    if not words:
        return "valid"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def fmt_enum(value: Any) -> str:
    return "null" if value is None else str(value)


# --------------------------------------------------------------------------- validation
def schema_errors(doc: Document, file: str | None) -> list[SpecError]:
    """All schema violations of a parsed document, as located errors sorted by position."""
    root = load_schema()
    errors: list[SpecError] = []
    unknown_at: dict[tuple, set[str]] = {}
    raw = list(_validator().iter_errors(doc.values))
    for error in raw:
        if error.validator == "additionalProperties":
            path = tuple(error.absolute_path)
            schema = resolve_ref(error.schema, root)
            for key in _extra_keys(error.instance, schema):
                hint = did_you_mean(key, schema.get("properties", {}))
                if not hint:
                    hint = _elsewhere(key, path, root)
                unknown_at.setdefault(path, set()).add(
                    closest(key, schema.get("properties", {})) or ""
                )
                errors.append(
                    _located(
                        doc,
                        file,
                        path + (key,),
                        MSG_UNKNOWN_KEY.format(key=key, hint=hint),
                        key=True,
                    )
                )
    for error in raw:
        if error.validator == "additionalProperties":
            continue
        spec_error = _translate(error, doc, file, root, unknown_at)
        if spec_error is not None:
            errors.append(spec_error)
    return sort_errors(errors)


def sort_errors(errors: list[SpecError]) -> list[SpecError]:
    """Errors in file order, each line once."""
    seen: set[str] = set()
    unique = []
    for e in errors:
        text = str(e)
        if text not in seen:
            seen.add(text)
            unique.append(e)
    return sorted(unique, key=lambda e: (e.location.line or 0, e.location.column or 0))


def _extra_keys(instance: Any, schema: dict) -> list[str]:
    if not isinstance(instance, dict):
        return []
    allowed = set(schema.get("properties", {}))
    return [k for k in instance if k not in allowed]


def _translate(error, doc: Document, file, root: dict, unknown_at) -> SpecError | None:
    """One schema violation as a located, plain-language error (None: said elsewhere)."""
    path = tuple(error.absolute_path)
    schema = resolve_ref(error.schema, root) if isinstance(error.schema, dict) else {}
    kind = error.validator
    value = error.instance
    if kind == "required":
        return _required_error(error, doc, file, path, unknown_at)
    if kind == "const":
        return _const_error(error, doc, file, path)
    if kind == "enum":
        return _enum_error(error, doc, file, path)
    if kind == "type":
        expected = _bound_words(doc, path) or expected_words(schema)
        return _located(doc, file, path, MSG_TYPE.format(expected=expected, got=fmt_value(value)))
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _located(
            doc, file, path, MSG_RANGE.format(expected=expected_words(schema), got=fmt_value(value))
        )
    if kind == "anyOf":
        return _any_of_error(error, doc, file, path, unknown_at)
    if kind == "pattern":
        words = PATTERN_WORDS.get(error.validator_value)
        if words:
            return _located(doc, file, path, MSG_TYPE.format(expected=words, got=fmt_value(value)))
        return _located(
            doc, file, path, MSG_PATTERN.format(pattern=error.validator_value, got=fmt_value(value))
        )
    if kind in ("minLength", "uniqueItems", "minItems", "maxItems"):
        return _size_error(error, doc, file, path)
    return _located(doc, file, path, MSG_GENERIC.format(message=" ".join(error.message.split())))


def _required_error(error, doc: Document, file, path: tuple, unknown_at) -> SpecError | None:
    """A missing key, located where it belongs (None when a misspelled key says it)."""
    value = error.instance
    missing = [k for k in error.validator_value if k not in (value or {})]
    key = missing[0] if missing else "?"
    if key in unknown_at.get(path, set()):
        return None  # "unknown key 'objectiv' (did you mean 'objective'?)" says it
    if path == () and key == "version":
        return _located(doc, file, ("version",), MSG_REQUIRED_VERSION, anchor=())
    return _located(doc, file, path + (key,), MSG_REQUIRED.format(key=key), anchor=path)


def _const_error(error, doc: Document, file, path: tuple) -> SpecError:
    """A value that must be one constant (the spec's ``version`` gets its own words)."""
    value = error.instance
    if path == ("version",):
        message = MSG_VERSION_TEXT if isinstance(value, str) else MSG_VERSION
        return _located(doc, file, path, message.format(got=fmt_value(value)))
    return _located(
        doc,
        file,
        path,
        MSG_CONST.format(value=fmt_value(error.validator_value), got=fmt_value(value)),
    )


def _enum_error(error, doc: Document, file, path: tuple) -> SpecError:
    """A value not among the options: the options (or, for many, a suggestion)."""
    value = error.instance
    options = error.validator_value
    hint = did_you_mean(value, [str(o) for o in options]) if isinstance(value, str) else ""
    if hint and len(options) > ENUM_LISTED_MAX:
        return _located(
            doc,
            file,
            path,
            MSG_ENUM_LONG.format(got=fmt_value(value), hint=hint, n=len(options)),
        )
    return _located(
        doc,
        file,
        path,
        MSG_ENUM.format(
            options=", ".join(fmt_enum(o) for o in options), got=fmt_value(value), hint=hint
        ),
    )


def _any_of_error(error, doc: Document, file, path: tuple, unknown_at) -> SpecError | None:
    """A criterion without a measure or a bound (None when a misspelled key says it)."""
    required = set()
    for option in error.validator_value:
        required.update(option.get("required", []))
    if required == {"metric", "check"}:
        if unknown_at.get(path, set()) & required:
            return None  # the misspelled key already says it
        return _located(doc, file, path, MSG_NEEDS_MEASURE)
    if required == {"at_least", "at_most"}:
        if unknown_at.get(path, set()) & required:
            return None
        return _located(doc, file, path, MSG_NEEDS_BOUND)
    return _located(doc, file, path, MSG_ANY_OF)


def _size_error(error, doc: Document, file, path: tuple) -> SpecError:
    """An empty text, a list with repeated items, or a list too short or too long."""
    kind, value = error.validator, error.instance
    if kind == "minLength":
        return _located(doc, file, path, MSG_MIN_LENGTH)
    if kind == "uniqueItems":
        repeated = sorted({fmt_value(v) for i, v in enumerate(value) if v in value[:i]})
        return _located(doc, file, path, MSG_UNIQUE.format(items=", ".join(repeated)))
    if kind == "minItems":
        return _located(
            doc, file, path, MSG_MIN_ITEMS.format(n=error.validator_value, got=len(value))
        )
    return _located(doc, file, path, MSG_MAX_ITEMS.format(n=error.validator_value, got=len(value)))


def _bound_words(doc: Document, path: tuple) -> str | None:
    """'a number between 0 and 1' for a criterion bound on a metric that is a share."""
    from auditor.metrics import METRICS
    from auditor.metrics.fairness import FAIRNESS_METRICS

    if len(path) != 3 or path[0] != "acceptance" or path[2] not in ("at_least", "at_most"):
        return None
    try:
        criterion = doc.values["acceptance"][path[1]]
    except (KeyError, IndexError, TypeError):  # pragma: no cover - path comes from the doc
        return None
    if not isinstance(criterion, dict) or criterion.get("check"):
        return None
    name = criterion.get("metric")
    entry = METRICS.get(name) or FAIRNESS_METRICS.get(name) if isinstance(name, str) else None
    return "a number between 0 and 1" if entry is not None and entry.unit_interval else None


def _located(
    doc: Document,
    file,
    path: tuple,
    message: str,
    *,
    key: bool = False,
    anchor: tuple | None = None,
) -> SpecError:
    """A SpecError at ``path``; positioned at its key (``key``), or at ``anchor``'s node."""
    probe = path if anchor is None else anchor
    table = doc.key_positions if key else doc.positions
    line = col = None
    while True:
        if probe in table:
            line, col = table[probe]
            break
        if probe in doc.positions:
            line, col = doc.positions[probe]
            break
        if not probe:
            break
        probe = probe[:-1]
    return SpecError(message, Location(file=file, line=line, column=col, path=path))


@lru_cache(maxsize=1)
def _key_homes() -> dict[str, list[str]]:
    """key -> the sections (dotted paths) of the schema where it is allowed."""
    root = load_schema()
    homes: dict[str, list[str]] = {}

    def walk(schema: dict, where: str, depth: int) -> None:
        schema = resolve_ref(schema, root)
        if depth > 8:
            return
        for key, sub in schema.get("properties", {}).items():
            homes.setdefault(key, []).append(where or "the top level")
            walk(sub, f"{where}.{key}" if where else key, depth + 1)
        items = schema.get("items")
        if isinstance(items, dict):
            walk(items, f"{where}[]", depth + 1)

    walk(root, "", 0)
    return homes


def _elsewhere(key: str, path: tuple, root: dict) -> str:
    homes = _key_homes().get(key, [])
    if 0 < len(homes) <= 2:
        return MSG_BELONGS.format(key=key, where=" or ".join(f"'{h}'" for h in homes))
    return ""
