"""The spec language: safe loading, two-stage validation, defaults, and writing.

    text --yamlio.parse_yaml--> values + positions
         --schema.schema_errors--> (stage 1: the JSON Schema, every error collected)
         --defaults.apply_defaults--> resolved values (one explicit step)
         --rules.run_spec_rules--> (stage 2: cross-field and data-aware rules)
         --> auditor.types.Spec

The entry points are in :mod:`auditor.spec.load`.
"""

from auditor.spec.defaults import apply_defaults
from auditor.spec.load import (
    Validated,
    check_spec,
    dump_spec,
    load_spec,
    order_like_schema,
    parse_spec_text,
    schema_ref_for,
)
from auditor.spec.rules import SPEC_RULES, spec_rule
from auditor.spec.schema import SCHEMA_PATH, load_schema

__all__ = [
    "SCHEMA_PATH",
    "SPEC_RULES",
    "Validated",
    "apply_defaults",
    "check_spec",
    "dump_spec",
    "load_schema",
    "load_spec",
    "order_like_schema",
    "parse_spec_text",
    "schema_ref_for",
    "spec_rule",
]
