"""Loading a spec: read, validate in two stages, resolve defaults; and writing one back.

    text --yamlio.parse_yaml--> values + positions
         --schema.schema_errors--> (stage 1: the JSON Schema, every error collected)
         --defaults.apply_defaults--> resolved values (one explicit step)
         --rules.run_spec_rules--> (stage 2: cross-field and data-aware rules)
         --> auditor.types.Spec

Every problem is a located :class:`~auditor.errors.SpecError`
(``FILE:LINE:COL: json.path: message``); several are raised together as
:class:`~auditor.errors.SpecErrors`, in file order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import Location, SpecError, SpecErrors
from auditor.spec.defaults import apply_defaults
from auditor.spec.rules import RuleContext, run_spec_rules
from auditor.spec.schema import (
    SCHEMA_PATH,
    load_schema,
    resolve_ref,
    schema_errors,
    sort_errors,
)
from auditor.spec.yamlio import MSG_NOT_MAPPING, Document, dump_yaml, parse_yaml, read_text
from auditor.types import Spec

SCHEMA_COMMENT = "# yaml-language-server: $schema={ref}\n"


@dataclass
class Validated:
    """A valid spec and what validating it learned about the data."""

    spec: Spec
    rows: dict[str, int] = field(default_factory=dict)  # data role -> rows (check_data only)


def load_spec(path: str | Path, *, check_data: bool = True) -> Spec:
    """Load, validate and resolve a spec file.

    Parameters
    ----------
    path : str or Path
        The YAML spec. Relative paths inside it are relative to its folder.
    check_data : bool
        Also check the data files: they exist and parse, hold the named columns, the
        target has at least two classes, and so on. Missing example data (``data.generate``)
        is created first.

    Returns
    -------
    auditor.types.Spec
        Every default filled; ``positions`` maps JSON paths to (line, column).

    Raises
    ------
    SpecError, SpecErrors
        One located error per problem, in file order.
    """
    return check_spec(path, check_data=check_data).spec


def check_spec(path: str | Path, *, check_data: bool = True) -> Validated:
    """Like :func:`load_spec`, also returning the row counts seen in the data."""
    path = Path(path)
    text = read_text(path)
    return parse_spec_text(text, path=path, check_data=check_data)


def parse_spec_text(
    text: str, *, path: str | Path, check_data: bool = True, edit=None
) -> Validated:
    """Validate spec text as if read from ``path`` (its folder anchors relative paths);
    ``edit`` as for :func:`parse_spec_mapping`."""
    path = Path(path)
    file = str(path)
    doc = parse_yaml(text, file=file)
    if not isinstance(doc.values, dict):
        kind = "a list" if isinstance(doc.values, list) else f"the value {doc.values!r}"
        raise SpecError(MSG_NOT_MAPPING.format(kind=kind), Location(file=file, line=1, column=1))
    if edit is not None:
        edit(doc)
    return validate_document(doc, path=path, file=file, check_data=check_data)


def parse_spec_mapping(
    values: Mapping, *, path: str | Path, check_data: bool = True, edit=None
) -> Validated:
    """Validate a spec given as a mapping (the Python API), its errors located by JSON path.

    ``path`` stands for the spec file (its folder anchors relative paths; no file is read);
    ``edit``, when given, changes the plain values before validation (the API's in-memory
    inputs put their placeholders in).
    """
    from auditor.spec.mapping import document_from_mapping

    doc = document_from_mapping(values)  # a mapping's values are one
    if edit is not None:
        edit(doc)
    return validate_document(doc, path=Path(path), file=None, check_data=check_data)


def validate_document(
    doc: Document, *, path: Path, file: str | None, check_data: bool = True
) -> Validated:
    """Both stages of validation of a parsed document (YAML text or a mapping)."""
    errors = schema_errors(doc, file)
    if errors:
        raise SpecErrors(errors)
    values = apply_defaults(doc.values)
    ctx = RuleContext(values=values, doc=doc, file=file, base_dir=path.parent)
    errors = run_spec_rules(ctx, check_data=check_data)
    if errors:
        raise SpecErrors(sort_errors(errors))
    rows = dict(ctx._probe.rows) if ctx._probe is not None else {}
    spec = Spec(path=path, values=values, positions=dict(doc.positions))
    return Validated(spec=spec, rows=rows)


def schema_ref_for(spec_file: str | Path) -> str:
    """The schema's path relative to where ``spec_file`` will be written."""
    folder = Path(spec_file).resolve().parent
    try:
        return Path(os.path.relpath(SCHEMA_PATH.resolve(), folder)).as_posix()
    except ValueError:  # pragma: no cover - another drive on Windows
        return SCHEMA_PATH.as_uri()


def dump_spec(values: dict[str, Any], *, schema_ref: str | None = None) -> str:
    """YAML text of a (resolved) spec that :func:`load_spec` reads back to equal values.

    Keys follow the schema's order. The first line points editors at the schema;
    ``schema_ref`` defaults to the schema's ``$id``.
    """
    ref = schema_ref or load_schema().get("$id", SCHEMA_PATH.as_uri())
    return SCHEMA_COMMENT.format(ref=ref) + dump_yaml(order_like_schema(values))


def order_like_schema(values: Any, schema: dict | None = None, root: dict | None = None) -> Any:
    """A copy of ``values`` with mapping keys in the schema's property order."""
    root = root if root is not None else load_schema()
    schema = resolve_ref(schema if schema is not None else root, root)
    if isinstance(values, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        ordered = {k: order_like_schema(values[k], props[k], root) for k in props if k in values}
        for k, v in values.items():
            if k not in ordered:
                ordered[k] = order_like_schema(v, extra if isinstance(extra, dict) else {}, root)
        return ordered
    if isinstance(values, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        return [order_like_schema(v, items, root) for v in values]
    return values
