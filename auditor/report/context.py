"""From results.json to what the templates display: formatted, plain-language, complete.

The templates only display values; every decision about wording, ordering and formatting
is made here, so the HTML and the PDF (same template) show the same numbers, and the
templates can run under StrictUndefined without guarding every key. Findings are grouped
by category generically, so a new check shows up in the report without template changes.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import math
import re
import types
from collections.abc import Callable, Mapping
from typing import Any

from auditor.metrics.fairness import FAIRNESS_METRICS, GROUP_RATES
from auditor.metrics.performance import METRICS
from auditor.report import lm_tables
from auditor.report.against_view import against_view
from auditor.report.charts import ChartSVG
from auditor.report.digest import MAX_CHARTS_PER_SECTION, WITH_TABLE_KINDS, Plan, plan_section
from auditor.report.docmap import documentation_map
from auditor.report.fairness_bounds import with_bound_line
from auditor.report.fairness_tables import compact_group_table, feature_matrices
from auditor.report.page_one import main_chart
from auditor.report.text_tables import TEXT_ROWS, text_tables
from auditor.spec.typed import typed_spec
from auditor.splits import split_column
from auditor.types import CATEGORIES, TEXT_TASKS
from auditor.words import count_words, form

DASH = "\u2014"  # an absent value; the template compares values with it (``dash``)

CATEGORY_ORDER = CATEGORIES
ALWAYS_SHOWN = ("data", "fit", "performance", "fairness")
CATEGORY_TITLES = {
    "data": "Data",
    "drift": "Client data against development data",
    "fit": "Fit",
    "performance": "Performance",
    "fairness": "Fairness",
    "drivers": "What drives the model",
    "tuning": "Hyperparameter search",
    "text": "Generated text",
    "safety": "Safety of generated text",
}
CATEGORY_NOUNS = {
    "data": "data checks",
    "drift": "drift checks",
    "fit": "fit checks",
    "performance": "performance checks",
    "fairness": "fairness checks",
    "drivers": "driver checks",
    "tuning": "tuning checks",
    "text": "text checks",
    "safety": "safety checks",
}

VERDICTS = {
    "READY": {
        "css": "ready",
        "icon": "\u2714",
        "word": "READY",
        "meaning": "Every blocking criterion is met. The model may ship once signed.",
    },
    "CONDITIONAL": {
        "css": "conditional",
        "icon": "\u26a0",
        "word": "CONDITIONAL",
        "meaning": "Every blocking criterion is met, but something needs "
        "attention; it may ship only if the signers accept it.",
    },
    "NOT READY": {
        "css": "not-ready",
        "icon": "\u2716",
        "word": "NOT READY",
        "meaning": "At least one blocking criterion is not met. The model must not ship as it is.",
    },
}
STATUS_LABELS = {
    "pass": ("\u2714", "PASS"),
    "fail": ("\u2716", "FAIL"),
    "warn": ("\u26a0", "WARN"),
    "inconclusive": ("?", "INCONCLUSIVE"),
    "error": ("!", "ERROR"),
    "skipped": ("\u2013", "SKIPPED"),
    "waived": ("\u2714", "WAIVED"),
}
MAX_TABLE_ROWS = 40  # rows shown per details table; the rest stay in results.json
MAX_TABLE_COLUMNS = 12
INLINE_ITEMS = 12  # a dict of at most this many scalars is shown on one line
# what the appendix says about the model, from results['model']['info'] when present
MODEL_FACTS = (
    "format",
    "estimator",
    "architecture",
    "parameters",
    "input",
    "output",
    "classes",
    "trusted_types",
    "optimizer",
    "epochs_run",
    "stop_reason",
)
IMPACT_CHECKS = ("expected_cost", "business_impact")  # findings carrying the cost per 1,000


# --------------------------------------------------------------------------- formatting
def fmt(value: Any, *, digits: int = 3) -> str:
    """One number format for every table: thousands separators, about 3 significant digits."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "\u221e" if value > 0 else "-\u221e"
        a = abs(value)
        if a == 0:
            return "0"
        if value.is_integer() and a >= 10:
            return f"{int(value):,}"
        if a >= 1000:
            return f"{value:,.0f}"
        if a >= 100:
            return f"{value:.1f}"
        if a >= 10:
            return f"{value:.2f}"
        if a < 0.001:
            return f"{value:.2g}"
        return f"{value:.{digits}f}"
    return str(value)


def fmt_signed(value: Any) -> str:
    if value is None:
        return DASH
    text = fmt(float(value))
    return text if text.startswith("-") or float(value) == 0 else f"+{text}"


def fmt_ci(ci: Any) -> str:
    if not ci or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return DASH
    return f"{fmt(float(ci[0]))} \u2013 {fmt(float(ci[1]))}"


def fmt_cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt_cell(v) for v in value[:20]) + (" \u2026" if len(value) > 20 else "")
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt_cell(v)}" for k, v in list(value.items())[:12])
    return fmt(value)


def _percent(value: Any) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return fmt(value)
    return f"{float(value) * 100:g}%"


def bound_text(direction: Any, value: Any) -> str:
    """A bound as the tables show it: "\u2265 0.800", "\u2264 0.100" (a plain value when the
    direction is unknown)."""
    return {"at_least": "\u2265 ", "at_most": "\u2264 "}.get(direction, "") + fmt(_num(value))


def metric_name(name: Any) -> str:
    """A metric's table label, from the performance or fairness catalogue."""
    if str(name) in METRICS:
        return METRICS[str(name)].short_label
    if str(name) in FAIRNESS_METRICS:
        return FAIRNESS_METRICS[str(name)].label
    return str(name).replace("_", " ")


def status_label(status: str) -> dict[str, str]:
    icon, word = STATUS_LABELS.get(status, ("?", str(status).upper()))
    return {"icon": icon, "word": word, "css": f"st-{status}"}


# --------------------------------------------------------------------------- tables
#: details a finding's sentence already states in words: kept in results.json, not drawn
#: as a table of raw keys (the calibration trade-off's base rates, gaps and flags; the
#: generated text's worst rows, shown by the text tables section)
EVIDENCE_ONLY = frozenset({"tradeoff"}) | TEXT_ROWS  # text rows: their own section


def details_tables(details: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict]]:
    """Generic evidence from a finding's details: (tables, one-line facts).

    A list of dicts becomes a table; a large dict of scalars becomes a two-column table;
    scalars and small dicts become one-line facts.
    """
    tables = []
    scalars = []
    for key, value in (details or {}).items():
        if key in EVIDENCE_ONLY:
            continue
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            tables.append(_records_table(key, value))
        elif (
            isinstance(value, dict)
            and value
            and all(not isinstance(v, (dict, list)) for v in value.values())
        ):
            items = list(value.items())
            if len(items) <= INLINE_ITEMS:
                scalars.append(_fact_row(key, "; ".join(f"{k} {fmt_cell(v)}" for k, v in items)))
                continue
            tables.append(_pairs_table(key, items))
        elif not isinstance(value, (dict, list)):
            scalars.append(_fact_row(key, fmt_cell(value)))
    return tables, scalars


def _records_table(key: Any, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A list of dicts as a table: the union of their keys as columns, in first-seen order."""
    columns: list[str] = []
    for r in records:
        for c in r:
            if c not in columns:
                columns.append(c)
    columns = columns[:MAX_TABLE_COLUMNS]
    rows = []
    for r in records[:MAX_TABLE_ROWS]:
        flagged = bool(r.get("inconclusive"))
        rows.append({"cells": [fmt_cell(r.get(c)) for c in columns], "flagged": flagged})
    return {
        "title": str(key).replace("_", " "),
        "columns": [str(c).replace("_", " ") for c in columns],
        "rows": rows,
        "more": max(0, len(records) - MAX_TABLE_ROWS),
    }


def _pairs_table(key: Any, items: list[tuple[Any, Any]]) -> dict[str, Any]:
    """A large dict of scalars as a two-column table (name, value)."""
    return {
        "title": str(key).replace("_", " "),
        "columns": ["", "value"],
        "rows": [
            {"cells": [str(k), fmt_cell(v)], "flagged": False} for k, v in items[:MAX_TABLE_ROWS]
        ],
        "more": max(0, len(items) - MAX_TABLE_ROWS),
    }


def _fact_row(key: Any, text: str) -> dict[str, Any]:
    """A one-line fact: the key in words and its formatted value."""
    return {"cells": [str(key).replace("_", " "), text], "flagged": False}


# --------------------------------------------------------------------------- findings
# facts that restate the title or the chart's axis; still in results.json
QUIET_FACTS = ("label", "direction", "rate", "adequate value")
SAME_CHART = "Same chart as under \u201c{title}\u201d above."
OMITTED_CHART = (
    "Chart left out: this section draws at most {n} charts, the most important "
    "first. Its data are in results.json (attached to this PDF)."
)


def finding_view(f: dict[str, Any], chart: ChartSVG | None) -> dict[str, Any]:
    status = str(f.get("status", ""))
    threshold = f.get("threshold")
    details = f.get("details") or {}
    tables, facts = details_tables(details) if isinstance(details, dict) else ([], [])
    return {
        "id": str(f.get("id", "")),
        "anchor": "f-" + "".join(c if c.isalnum() else "-" for c in str(f.get("id", ""))),
        "title": str(f.get("title") or f.get("id") or ""),
        "summary": str(f.get("summary") or ""),
        "recommendation": str(f.get("recommendation") or ""),
        "status": status_label(status),
        "value": fmt(_num(f.get("value"))),
        "ci": fmt_ci(f.get("ci")),
        "bound": DASH if threshold is None else bound_text(f.get("direction"), threshold),
        "split": _column(f.get("split")),
        "sensitive": str(f.get("sensitive") or ""),
        "n": fmt(f.get("n")) if f.get("n") is not None else "",
        "criterion": (
            int(f["criterion_index"]) + 1 if isinstance(f.get("criterion_index"), int) else None
        ),
        "tables": tables,
        "facts": [
            {"key": r["cells"][0], "value": r["cells"][1]}
            for r in facts
            if r["cells"][0] not in QUIET_FACTS and r["cells"][1] != DASH
        ],
        "chart": chart,
        "small": bool(chart is not None and chart.small and (not tables or chart.compact)),
        "block": True,
    }


def _num(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _dedupe_tables(views: list[dict[str, Any]], shown: dict[str, str]) -> None:
    """Show each identical evidence table once (several fairness metrics over the same groups
    share one groups table); later copies become a pointer to the first."""
    for view in views:
        kept = []
        for table in view["tables"]:
            key = repr((table["columns"], table["rows"]))
            if key in shown:
                view["facts"].append(
                    {
                        "key": table["title"] or "table",
                        "value": f"as under \u201c{shown[key]}\u201d above",
                    }
                )
            else:
                shown[key] = view["title"]
                kept.append(table)
        view["tables"] = kept


def judged_by_criterion(f: dict[str, Any], criteria: list[dict[str, Any]]) -> dict[str, Any]:
    """The finding as the sections show it: when an acceptance criterion is about it, with
    the criterion's status and bound (the verdict's reading), so a section never says WARN
    where page one says FAIL. The finding itself stays unchanged in results.json."""
    for c in criteria:
        if c.get("finding_id") != f.get("id") or c.get("status") in (None, "skipped"):
            continue
        crit = c.get("criterion") or {}
        out = dict(f)
        out["status"] = "waived" if c.get("waived") else str(c["status"])
        out["criterion_index"] = c.get("index")
        if "at_least" in crit or "at_most" in crit:
            out["direction"] = "at_least" if "at_least" in crit else "at_most"
            out["threshold"] = crit.get("at_least", crit.get("at_most"))
        return out
    return f


def pair_small(blocks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The blocks in display rows: consecutive small blocks two to a row, others alone."""
    rows: list[list[dict[str, Any]]] = []
    for view in blocks:
        if view["small"] and rows and len(rows[-1]) == 1 and rows[-1][0]["small"]:
            rows[-1].append(view)
        else:
            rows.append([view])
    return rows


def lead_sentence(category: str, findings: list[dict[str, Any]]) -> str:
    """One sentence that says what the section found."""
    noun = CATEGORY_NOUNS.get(category, f"{category} checks")
    if not findings:
        return f"No {noun} were run."
    bad = [f for f in findings if f.get("status") in ("fail", "error")]
    unsure = [f for f in findings if f.get("status") in ("warn", "inconclusive")]
    if bad:
        first = bad[0]
        return (
            f"{len(bad)} of {len(findings)} {noun} failed. "
            f"Most important: {first.get('summary') or first.get('title')}"
        )
    if unsure:
        first = unsure[0]
        return (
            f"No {noun[:-1]} failed, but {len(unsure)} of {len(findings)} need attention. "
            f"Most important: {first.get('summary') or first.get('title')}"
        )
    measured = [f for f in findings if f.get("status") != "skipped"]
    if not measured:  # nothing applied here: say why, not "all passed"
        return f"Not measured: {findings[0].get('summary') or findings[0].get('title')}".strip()
    skipped = len(findings) - len(measured)
    rest = f" ({skipped} not measured here)" if skipped else ""
    lead = f"The one {noun[:-1]}" if len(measured) == 1 else f"All {len(measured)} {noun}"
    return f"{lead} passed{rest}. {measured[0].get('summary') or ''}".strip()


# --------------------------------------------------------------------------- summaries
SPLIT_COLUMNS = ("train", "validation", "test", "holdout")
GROUP_COLUMN_NAMES = {"n": "rows", **{r.name: r.short_label for r in GROUP_RATES.values()}}
GROUP_SKIP_COLUMNS = ("group", "inconclusive", "needed")


def ordered_splits(present: Any) -> list[str]:
    """The splits in ``present`` in the usual order (train, validation, test, holdout),
    any other after them alphabetically."""
    present = set(present)
    return [s for s in SPLIT_COLUMNS if s in present] + sorted(present - set(SPLIT_COLUMNS))


def row_key(f: dict[str, Any]) -> str:
    """A finding's id without its split: the findings of one check on every split share it."""
    split = str(f.get("split") or "")
    parts = str(f.get("id", "")).split(".")
    return ".".join(p for p in parts if not split or p != split)


def row_label(title: str, split: str) -> str:
    """The title without the split it was measured on ("Missing values in test" ->
    "Missing values"); a split named inside the title reads "each split"."""
    if not split:
        return title
    stripped = re.sub(rf"\s+(in|on)\s+(the\s+)?{re.escape(split)}(\s+split)?$", "", title)
    if stripped != title:
        return stripped
    return re.sub(rf"\b{re.escape(split)}\b", "each split", title)


def segment_of(f: dict[str, Any]) -> tuple[str, str] | None:
    """(sensitive column, group) of a generated-text finding measured on one segment."""
    group = (f.get("details") or {}).get("group")
    if f.get("check") != "text" or not f.get("sensitive") or group is None:
        return None
    return str(f["sensitive"]), str(group)


def _matrix_columns(findings: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Each split, then (for generated text) each of its segments: (split, segment or None)."""
    splits = ordered_splits(str(f.get("split")) for f in findings if f.get("split"))
    segments: dict[str, set[str]] = {s: set() for s in splits}
    for f in findings:
        seg = segment_of(f)
        if seg is not None and str(f.get("split") or "") in segments:
            segments[str(f["split"])].add(f"{seg[0]}: {seg[1]}")
    return [(s, g) for s in splits for g in [None, *sorted(segments[s])]]


def _column_label(column: tuple[str, str | None], *, several_splits: bool) -> str:
    split, segment = column
    if segment is None:
        return _column(split)
    return f"{_column(split)}, {segment}" if several_splits else segment


def check_matrix(
    views: list[dict[str, Any]], findings: list[dict[str, Any]], *, by_feature: bool = False
) -> dict[str, Any]:
    """The section's checks as one table: a row per check, a column per split.

    ``views`` and ``findings`` are parallel (most important first); each cell shows the
    status, the measured value and its interval on that split. A generated-text metric
    measured per segment (``data.sensitive``) has a column per segment beside its split's,
    so that the metric is one row rather than one per segment.
    """
    columns = _matrix_columns(findings)
    several = len({c[0] for c in columns}) > 1
    rows: dict[str, dict[str, Any]] = {}
    for view, f in zip(views, findings, strict=True):
        if not view["in_table"]:
            continue
        split = str(f.get("split") or "")
        segment = segment_of(f)
        key, title = row_key(f), view["title"]
        if segment is not None:  # the metric's row, not the segment's
            key = key.removesuffix(".{}.{}".format(*segment))
            title = title.removesuffix(" ({} {})".format(*segment))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "label": row_label(title, split),
                "anchor": "",
                "bound": view["bound"],
                "criteria": [],
                "cells": {},
                "whole": None,
                "sensitive": view["sensitive"],
            }
        if view["criterion"] is not None:
            row["criteria"].append(view["criterion"])
        if view["block"] and not row["anchor"]:
            row["anchor"] = view["anchor"]
        cell = {"status": view["status"], "value": view["value"], "ci": view["ci"]}
        column = (split, None if segment is None else "{}: {}".format(*segment))
        if column in columns:
            row["cells"].setdefault(column, cell)
        else:
            row["whole"] = cell
        if row["bound"] == DASH:
            row["bound"] = view["bound"]
    out = []
    for row in rows.values():
        cells = [row["cells"].get(c) for c in columns]
        if row["whole"] is not None and not any(cells):
            row["span"] = row["whole"]
        else:
            row["span"] = None
        row["cells"] = cells
        out.append(row)
    if by_feature:
        # fairness: grouped by sensitive feature, in the order the features first appear
        features = list(dict.fromkeys(r["sensitive"] for r in out))
        out.sort(key=lambda r: features.index(r["sensitive"]))
    splits = [_column_label(c, several_splits=several) for c in columns]
    return {"splits": splits, "rows": out, "folded": []}


#: A section table longer than this folds, in the PDF, its rows that pass on every split
#: and that no criterion is about into one sentence under it (report.html keeps them).
FOLD_ROWS_OVER = 12


def fold_passing_rows(matrix: dict[str, Any], *, over: int = FOLD_ROWS_OVER) -> None:
    """Fold a long table's rows that pass everywhere into ``matrix["folded"]`` (labels)."""
    if len(matrix["rows"]) <= over:
        return

    def passes(row: dict[str, Any]) -> bool:
        cells = [c for c in [*row["cells"], row.get("span")] if c]
        return bool(cells) and all(c["status"]["word"] == "PASS" for c in cells)

    kept = [r for r in matrix["rows"] if r["criteria"] or r["anchor"] or not passes(r)]
    matrix["folded"] = [r["label"] for r in matrix["rows"] if r not in kept]
    matrix["rows"] = kept


def group_tables(
    findings: list[dict[str, Any]], *, first_split_only: bool = False, compact: bool = False
) -> list[dict[str, Any]]:
    """One table per sensitive feature (and intersection): each group's size and rates on
    every split, from the fairness findings' details (identical for every metric).

    ``first_split_only`` keeps the first split in report order (the test split, else the
    first client split), as the disparity tables do; report.html has every split.
    ``compact`` (the PDF): one table per feature on the first split, the key rates each
    with its ratio to the reference group (:mod:`auditor.report.fairness_tables`).
    """
    by_feature: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for f in findings:
        groups = (
            (f.get("details") or {}).get("groups") if isinstance(f.get("details"), dict) else None
        )
        sensitive, split = f.get("sensitive"), str(f.get("split") or "")
        if not sensitive or not isinstance(groups, list) or not groups:
            continue
        by_feature.setdefault(str(sensitive), {}).setdefault(split, groups)
    tables = []
    for feature, per_split in by_feature.items():
        if compact:
            tables.append(
                compact_group_table(feature, per_split, disparity_details(feature, findings))
            )
            continue
        splits = ordered_splits(per_split)[: 1 if first_split_only else None]
        columns: list[str] = []
        for groups in per_split.values():
            for g in groups:
                if isinstance(g, dict):
                    columns += [c for c in g if c not in columns and c not in GROUP_SKIP_COLUMNS]
        columns = columns[: MAX_TABLE_COLUMNS - 2]
        rows = []
        for split in splits:
            for g in per_split[split]:
                if not isinstance(g, dict):
                    continue
                rows.append(
                    {
                        "cells": [str(g.get("group", "")), _column(split)]
                        + [fmt_cell(g.get(c)) for c in columns],
                        "flagged": bool(g.get("inconclusive")),
                    }
                )
        total = len(rows)
        title = (
            f"Intersections of {feature.replace('&', ' & ')}: groups"
            if "&" in feature
            else f"Groups of {feature}"
        )
        tables.append(
            {
                "title": title,
                "feature": feature,
                "columns": ["group", "split"]
                + [GROUP_COLUMN_NAMES.get(c, c.replace("_", " ")) for c in columns],
                "rows": rows[:MAX_TABLE_ROWS],
                "more": max(0, total - MAX_TABLE_ROWS),
            }
        )
        # ratios to the reference per single feature; an intersection's many small groups
        # are in its groups table above and their ratios in results.json
        disparities = None if "&" in feature else disparity_table(feature, findings)
        if disparities is not None:
            tables.append(disparities)
    return tables


def disparity_details(feature: str, findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """{split: details} of the first fairness finding of each of ``feature``'s partitions
    that carries the groups' ``disparities`` (ratios to the reference group)."""
    per_split: dict[str, dict[str, Any]] = {}
    for f in findings:
        details = f.get("details") if isinstance(f.get("details"), dict) else {}
        if str(f.get("sensitive") or "") == feature and isinstance(
            details.get("disparities"), list
        ):
            per_split.setdefault(str(f.get("split") or ""), details)
    return per_split


def disparity_table(feature: str, findings: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Each group's rates over the reference group's, on every split, for one feature (from
    the ``disparities`` the first fairness finding of each partition carries), or None."""
    per_split = disparity_details(feature, findings)
    if not per_split:
        return None
    # the first split in report order (the test split, else the first client split): the
    # ratios of every split are in results.json, and one split's is what a reader compares
    splits = ordered_splits(per_split)[:1]
    first = per_split[splits[0]]
    columns = [c for c in first["disparities"][0] if c not in GROUP_SKIP_COLUMNS]
    columns = columns[: MAX_TABLE_COLUMNS - 2]
    rows = [
        {
            "cells": [str(g.get("group", "")), _column(split)]
            + [fmt_cell(g.get(c)) for c in columns],
            "flagged": bool(g.get("inconclusive")),
        }
        for split in splits
        for g in per_split[split]["disparities"]
        if isinstance(g, dict)
    ]
    shown = feature.replace("&", " & ")
    refs = {split: str(per_split[split].get("reference_group")) for split in splits}
    which = (
        first.get("reference_group")
        if len(set(refs.values())) == 1
        else "; ".join(f"{_column(split)}: {ref}" for split, ref in refs.items())
    )
    return {
        "title": f"{shown}: each group's rates over the reference group's "
        f"({which}, {first.get('reference_rule')})",
        "feature": feature,
        "columns": ["group", "split"] + [GROUP_COLUMN_NAMES.get(c, c) for c in columns],
        "rows": rows[:MAX_TABLE_ROWS],
        "more": max(0, len(rows) - MAX_TABLE_ROWS),
    }


def detail_rows(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the findings not shown in full found (appendix): the warnings, failures and
    inconclusive results the sections only list in their tables, one row per check with
    the sentence of its most important split (the others' are in results.json)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for section in sections:
        if section.get("only_skipped"):  # its lead sentence says why none could run
            continue
        for view in section["findings"]:
            if view["block"] or not view["in_table"] or view["status"]["word"] == "PASS":
                continue
            key = (section["key"], view["row_key"])
            row = rows.get(key)
            if row is None:  # views come most important first
                rows[key] = {
                    "status": view["status"],
                    "title": row_label(view["title"], view["split_key"]),
                    "splits": [view["split"]] if view["split"] else [],
                    "summary": view["summary"],
                }
            elif view["split"] and view["split"] not in row["splits"]:
                row["splits"].append(view["split"])
    return list(rows.values())


# --------------------------------------------------------------------------- page one
def criteria_rows(criteria: list[dict[str, Any]], run_date: str) -> list[dict[str, Any]]:
    rows = []
    for c in criteria:
        crit = c.get("criterion") or {}
        status = str(c.get("status", ""))
        shown = "waived" if c.get("waived") else status
        direction = next((d for d in ("at_least", "at_most") if d in crit), None)
        waiver = c.get("waiver")
        rows.append(
            {
                "description": str(c.get("description") or ""),
                "value": fmt(_num(c.get("value"))),
                "ci": fmt_ci(c.get("ci")),
                "bound": bound_text(direction, crit[direction] if direction else c.get("bound")),
                "margin": fmt_signed(c.get("margin")),
                "margin_bad": c.get("margin") is not None and float(c["margin"]) < 0,
                "status": status_label(shown),
                "severity": str(c.get("severity", "blocking")),
                "reason": str(c.get("reason") or ""),
                "rationale": str(crit.get("rationale") or ""),
                "confidence": crit.get("require") == "confidence",
                "waiver_expired": bool(
                    waiver
                    and not c.get("waived")
                    and status != "pass"
                    and str(waiver.get("expires", "")) < run_date
                ),
            }
        )
    return rows


def waiver_rows(criteria: list[dict[str, Any]], run_date: str) -> list[dict[str, Any]]:
    rows = []
    for c in criteria:
        w = c.get("waiver")
        if not w:
            continue
        expires = str(w.get("expires", ""))
        expired = bool(expires and expires < run_date)
        if c.get("waived"):
            state = "in force: the failure is accepted"
        elif expired:
            state = "EXPIRED: no longer counts"
        elif c.get("status") == "pass":
            state = "not needed: the criterion passes"
        else:
            state = "does not count"
        rows.append(
            {
                "description": str(c.get("description") or ""),
                "approver": str(w.get("approver", "")),
                "reason": str(w.get("reason", "")),
                "expires": expires,
                "expired": expired,
                "state": state,
            }
        )
    return rows


def business_impact(results: dict[str, Any]) -> dict[str, Any] | None:
    """Wrong decisions and expected cost per 1,000, from the findings (or the evaluation)."""
    evaluation = results.get("evaluation") or {}
    costs = evaluation.get("costs") or (results.get("spec", {}).get("evaluation", {}).get("costs"))
    if not costs:
        return None
    unit = str(costs.get("unit") or "cost units")
    rows = []
    for f in results.get("findings") or []:
        if f.get("status") == "skipped" or f.get("value") is None:
            continue
        if f.get("check") in IMPACT_CHECKS or f.get("metric") == "cost_per_1000":
            d = f.get("details") or {}
            rows.append(_impact_row(f.get("split"), d, f.get("value"), f.get("ci")))
    if not rows:
        for split, d in (costs.get("per_split") or {}).items():
            rows.append(
                _impact_row(
                    split,
                    d,
                    d.get("cost_per_1000"),
                    [d.get("cost_per_1000_low"), d.get("cost_per_1000_high")],
                )
            )
    if not rows:
        return None
    return {
        "unit": unit,
        "rows": rows,
        "false_positive": fmt(_num(costs.get("false_positive"))),
        "false_negative": fmt(_num(costs.get("false_negative"))),
    }


def _impact_row(split: Any, d: dict[str, Any], cost: Any, ci: Any) -> dict[str, str]:
    return {
        "split": _column(split),
        "wrong": fmt(_num(d.get("wrong_per_1000"))),
        "fp": fmt(_num(d.get("false_positives_per_1000"))),
        "fn": fmt(_num(d.get("false_negatives_per_1000"))),
        "cost": fmt(_num(cost)),
        "ci": fmt_ci(ci),
    }


# --------------------------------------------------------------------------- sections
def metrics_table(evaluation: dict[str, Any]) -> dict[str, Any]:
    metrics = evaluation.get("metrics") or {}
    splits = [s for s in SPLIT_COLUMNS if s in metrics]
    splits += [s for s in metrics if s not in splits]
    names: list[str] = []
    for s in splits:
        for m in metrics[s]:
            if m not in names:
                names.append(m)
    rows = []
    for m in names:
        cells = []
        for s in splits:
            r = metrics[s].get(m)
            if not isinstance(r, dict):
                cells.append({"value": fmt(_num(r)), "ci": ""})
                continue
            ci = fmt_ci([r.get("low"), r.get("high")])
            cells.append({"value": fmt(_num(r.get("value"))), "ci": "" if ci == DASH else ci})
        rows.append({"metric": metric_name(m), "cells": cells})
    n = []
    for s in splits:
        first = next(iter(metrics[s].values()), {})
        n.append(fmt(first.get("n")) if isinstance(first, dict) else "")
    return {"splits": [_column(s) for s in splits], "n": n, "rows": rows}


def baselines_table(
    evaluation: dict[str, Any], *, metrics: list[str] | None = None
) -> dict[str, Any]:
    """The model next to each simple baseline: a row per (model or baseline, metric), a
    column per split, for the primary metric and the metrics the criteria name (every
    other baseline number is in results.json)."""
    baselines = {
        str(k): v for k, v in (evaluation.get("baselines") or {}).items() if isinstance(v, dict)
    }
    splits = ordered_splits(s for v in baselines.values() for s in v)
    wanted = [m for m in metrics or [] if m]
    if not wanted:
        wanted = [str(evaluation.get("primary_metric") or "")]
    model_metrics = evaluation.get("metrics") or {}
    rows = []
    for metric in dict.fromkeys(wanted):
        entries = [("this model", {s: (model_metrics.get(s) or {}).get(metric) for s in splits})]
        entries += [
            (
                name,
                {
                    s: (per.get(s) or {}).get(metric) if isinstance(per.get(s), dict) else None
                    for s in splits
                },
            )
            for name, per in baselines.items()
        ]
        if not any(v is not None for name, vals in entries[1:] for v in vals.values()):
            continue
        for name, vals in entries:
            cells = []
            for s in splits:
                v = vals.get(s)
                cells.append(fmt(_num(v.get("value") if isinstance(v, dict) else v)))
            rows.append(
                {
                    "name": name,
                    "metric": metric_name(metric),
                    "cells": cells,
                    "model": name == "this model",
                }
            )
    return {"splits": [_column(s) for s in splits], "rows": rows}


def history_summary(model: dict[str, Any]) -> str:
    hist = model.get("history") or []
    if not hist:
        return "No training history: the model was not trained by auditor."
    best = model.get("best_epoch")
    text = f"Trained for {len(hist)} epochs"
    if best is not None:
        text += f"; the best validation result came at epoch {best}"
    if model.get("stopped_early"):
        text += ", and training stopped early because validation stopped improving"
    return text + "."


def recorded_model_files(model: dict[str, Any]) -> dict[str, str]:
    """{file name: sha256} of the model files, from results['model']['files'] (written by
    the run) and results['model']['info']['files'] (reported by the predictor)."""
    out: dict[str, str] = {}
    for files in ((model.get("info") or {}).get("files"), model.get("files")):
        if isinstance(files, dict):
            for name, value in files.items():
                sha = value.get("sha256") if isinstance(value, dict) else value
                if isinstance(sha, str) and sha:
                    out[str(name)] = sha
    return out


def run_date(results: dict[str, Any]) -> str:
    """The audit's date (YYYY-MM-DD), against which waivers' expiry dates are read."""
    run = results.get("run") or {}
    for key in ("finished", "started"):
        if run.get(key):
            return str(run[key])[:10]
    return _dt.date.today().isoformat()


# --------------------------------------------------------------------------- context
PAGE_SIZES = ("A4", "Letter")
# split -> label (audit files, development data) of the results being rendered
_SPLIT_LABELS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "split_labels", default=types.MappingProxyType({})
)


def report_spec(results: dict[str, Any]):
    """The results' spec, typed; what a partial results file lacks gets the schema's default
    (the task and target from ``results['data']``)."""
    from auditor.spec.defaults import apply_defaults

    spec = dict(results.get("spec") or {})
    data = results.get("data") or {}
    spec.setdefault("version", 1)
    spec.setdefault("name", "")
    spec["objective"] = {
        "task": data.get("task") or "binary",
        "target": data.get("target") or "",
        **(spec.get("objective") or {}),
    }
    spec["data"] = {"train": "", **(spec.get("data") or {})}
    return typed_spec(apply_defaults(spec))


def _plan_view(plan: Plan, draw_chart: Callable[[dict], ChartSVG | None]) -> dict[str, Any]:
    f = plan.finding
    chart: ChartSVG | None = None
    kind, title = str((f.get("chart") or {}).get("kind", "")), str(f.get("title", ""))
    if plan.chart == "draw":
        chart = draw_chart(f["chart"], compact=plan.compact)
    elif plan.chart == "same":
        chart = ChartSVG(kind=kind, title=title, note=SAME_CHART.format(title=plan.same_as))
    elif plan.chart == "omitted":
        chart = ChartSVG(
            kind=kind, title=title, note=OMITTED_CHART.format(n=MAX_CHARTS_PER_SECTION)
        )
    view = finding_view(f, chart)
    view["row_key"], view["split_key"] = row_key(f), str(f.get("split") or "")
    if plan.compact and chart is not None and chart.svg is not None and view["tables"]:
        # a passing example: its chart shows these numbers (all in results.json)
        view["tables"] = []
        view["small"] = chart.small
    view["block"] = plan.block
    view["example"] = plan.example
    view["in_table"] = plan.in_table
    view["tables_above"] = False
    view["tables_in_html"] = False
    return view


def build_context(
    results: dict[str, Any],
    *,
    draw_chart: Callable[[dict], ChartSVG | None],
    spec_text: str,
    attachments: list[dict[str, str]],
    medium: str = "html",
) -> dict[str, Any]:
    """Everything the report template shows, formatted; ``draw_chart`` draws a chart dict
    (called only for the charts the report shows).

    ``medium`` is ``"html"`` (every section's passing examples, collapsed, and the resolved
    spec printed) or ``"pdf"`` (the pages a reader signs: a finding that passes everywhere
    is its table row, and the resolved spec is the attachment, not pages of print).
    """
    if medium not in MEDIA:
        raise ValueError(f"medium must be one of {MEDIA}, got {medium!r}")
    labels = (results.get("data") or {}).get("split_labels") or {}
    token = _SPLIT_LABELS.set({str(k): str(v) for k, v in labels.items()})
    try:
        context = _build_context(results, draw_chart, spec_text, attachments, medium)
        return {
            **context,
            "medium": medium,
            "appendix_details_pdf": APPENDIX_DETAILS_PDF,
            "next_steps_pdf": NEXT_STEPS_PDF,
        }
    finally:
        _SPLIT_LABELS.reset(token)


def split_words(split: dict[str, Any]) -> str:
    """How the rows were split, in words: the strategy and seed, or that audit-only files
    were audited as they are (and which rows, if any, chose the decision threshold)."""
    if split.get("strategy") == "none":
        text = "Audit-only data: every file is audited as it is, nothing was trained"
    else:
        text = f"Split strategy: {split.get('strategy', '')} (seed {fmt(split.get('seed'))})"
    taken = split.get("threshold_rows")
    if isinstance(taken, dict):
        text += (
            f"; {fmt(taken.get('rows'))} rows of {_column(taken.get('from'))} "
            f"({_percent(taken.get('fraction'))}, seeded) were set aside to choose the "
            "decision threshold and are not audited"
        )
    return text


BETTER_WORDS = {"vendor": "vendor", "in-house": "in-house", "neither": "no clear difference"}


def comparison_view(results: dict[str, Any]) -> dict[str, Any] | None:
    """The vendor-against-in-house table of page one, or None without a comparison."""
    from auditor.compare import difference_text

    comparison = results.get("comparison")
    if not isinstance(comparison, dict):
        return None

    def side(s: Any) -> str:
        s = s if isinstance(s, dict) else {}
        word = status_label(str(s.get("status", "")))["word"]
        return f"{fmt(_num(s.get('value')))} {word}"

    rows = [
        {
            "description": str(r.get("description", "")),
            "vendor": side(r.get("vendor")),
            "challenger": side(r.get("challenger")),
            "difference": difference_text(r),
            "better": BETTER_WORDS.get(str(r.get("better")), DASH),
        }
        for r in comparison.get("criteria") or []
        if isinstance(r, dict)
    ]
    return {
        "label": str(comparison.get("label", "the in-house model")),
        "summary": str(comparison.get("summary", "")),
        "rows": rows,
    }


def _column(split: Any) -> str:
    """A split as a table column heads it, by the label the spec gave it (audit files)."""
    return split_column(split, _SPLIT_LABELS.get().get(str(split or "")))


#: What a report is rendered for: the HTML page (everything, expandable) or the PDF.
MEDIA = ("html", "pdf")
#: Rows of the appendix's "what the other checks found" in the PDF (most important
#: first; report.html and results.json list every one).
APPENDIX_DETAILS_PDF = 6
#: Steps page one of the PDF lists (the first are the blockers'; report.html lists all).
NEXT_STEPS_PDF = 3


def _build_context(results, draw_chart, spec_text, attachments, medium) -> dict[str, Any]:
    spec = report_spec(results)
    verdict = results.get("verdict") or {}
    status = str(verdict.get("status", "NOT READY"))
    when = run_date(results)
    model = results.get("model") or {}
    data = results.get("data") or {}
    env = results.get("environment") or {}
    evaluation = results.get("evaluation") or {}
    criteria = [c for c in results.get("criteria") or [] if isinstance(c, dict)]
    findings = _report_findings(results, criteria)
    present = {str(f.get("category")) for f in findings}
    # the four sections every audit has, drift when there were client data to compare;
    # generated text has no fit, performance or fairness of a tabular model
    shown = ("data",) if data.get("task") in TEXT_TASKS else ALWAYS_SHOWN
    shown = lm_tables.shown_sections(results, shown)  # a language model: data and fit
    categories = [c for c in CATEGORY_ORDER if c in present or c in shown]
    categories += sorted(present - set(CATEGORY_ORDER))
    sections = _sections(
        findings, categories, criteria, evaluation, draw_chart, examples=medium == "html"
    )
    env_rows = _environment_rows(env)
    packages = sorted((str(k), str(v)) for k, v in (env.get("packages") or {}).items())
    model_notes, model_facts = _model_notes_and_facts(model)
    fingerprints = _fingerprints(results, data, model)
    return {
        **_headline(results, spec, when),
        "verdict": _verdict_view(verdict, status),
        "page_one_warnings": page_one_warnings(findings),
        "criteria": criteria_rows(results.get("criteria") or [], when),
        "waivers": waiver_rows(results.get("criteria") or [], when),
        "impact": business_impact(results),
        "comparison": comparison_view(results),
        "against": against_view(results, medium),
        "main_chart": main_chart(criteria, findings, draw_chart),
        "pickle_loaded": bool(model.get("pickle_loaded")),
        "model_kind": str(model.get("kind") or ""),
        "model_notes": model_notes,
        "sections": [sections[c] for c in categories],
        "data": _data_view(data),
        "fit": _fit_view(model, evaluation, criteria),
        "performance": _performance_view(evaluation),
        "lm": lm_tables.lm_view(results, draw_chart),  # None unless a language model
        "counted": "documents" if lm_tables.is_lm(results) else "rows",  # what a finding's n is
        "appendix": {
            "spec_text": spec_text,
            "details": detail_rows([sections[c] for c in categories]),
            "model_facts": model_facts,
            "environment": env_rows,
            "packages": packages,
            "fingerprints": fingerprints,
            "attachments": attachments,
            "timings": [
                (str(k), fmt_cell(v))
                for k, v in ((results.get("run") or {}).get("timings") or {}).items()
            ],
            "started": str((results.get("run") or {}).get("started", "")),
            "finished": str((results.get("run") or {}).get("finished", "")),
            "docmap": documentation_map(),
        },
        "text_tables": text_tables(results),  # generated text: auditor/report/text_tables.py
    }


PAGE_ONE_WARNINGS = 5  # most warnings page one states; the rest are counted


def page_one_warnings(findings: list[dict[str, Any]]) -> list[str]:
    """The sentences warning findings ask to have on page one (``details.page_one``: a
    model worse than a trivial baseline), each once, the rest counted."""
    said: list[str] = []
    for f in findings:
        details = f.get("details") if isinstance(f.get("details"), dict) else {}
        text = details.get("page_one")
        if f.get("status") == "warn" and isinstance(text, str) and text and text not in said:
            said.append(text)
    if len(said) > PAGE_ONE_WARNINGS:
        rest = len(said) - PAGE_ONE_WARNINGS + 1
        said = said[: PAGE_ONE_WARNINGS - 1] + [
            f"{count_words(rest, 'more warning')} of this kind {form(rest, 'is')} in the fit "
            "section."
        ]
    return said


def _report_findings(results: dict[str, Any], criteria: list[dict[str, Any]]) -> list[dict]:
    """The results' findings, each marked with the criterion that judges it."""
    # fairness group charts get their bound as a line on the groups' scale (from the
    # criterion about the finding, else its diagnostic limit): see fairness_bounds
    return [
        judged_by_criterion(with_bound_line(f, criteria), criteria)
        for f in results.get("findings") or []
        if isinstance(f, dict)
    ]


def _sections(
    findings: list[dict[str, Any]],
    categories: list[str],
    criteria: list[dict[str, Any]],
    evaluation: dict[str, Any],
    draw_chart: Callable[[dict], ChartSVG | None],
    *,
    examples: bool = True,
) -> dict[str, dict[str, Any]]:
    """One section per category, in order: its findings planned, drawn and laid out
    (``examples``: passing findings shown in full as examples of their kind, see
    :func:`~auditor.report.digest.plan_section`)."""
    sections = {}
    linked = {str(c["finding_id"]) for c in criteria if c.get("finding_id")}
    linked |= {str(f.get("id")) for f in findings if f.get("advisory") is False}
    shown_tables: dict[str, str] = {}
    for cat in categories:
        fs = [f for f in findings if str(f.get("category")) == cat]
        sections[cat] = _section(
            cat, fs, linked, evaluation.get("metrics") or {}, draw_chart, shown_tables, examples
        )
    if "fairness" in sections:
        _fairness_group_tables(
            sections["fairness"],
            [f for f in findings if str(f.get("category")) == "fairness"],
            examples=examples,
        )
    for section in sections.values():
        section.setdefault("group_tables", [])
        section["block_rows"] = pair_small(section["blocks"])
    return sections


def _section(
    cat: str,
    findings: list[dict[str, Any]],
    linked: set[str],
    metrics: dict[str, Any],
    draw_chart: Callable[[dict], ChartSVG | None],
    shown_tables: dict[str, str],
    examples: bool = True,
) -> dict[str, Any]:
    """One category's section: its check matrix, lead sentence and finding views."""
    plans = plan_section(findings, linked=linked, metrics=metrics, examples=examples)
    views = [_plan_view(p, draw_chart) for p in plans]
    if not examples:  # the PDF: a drawn chart is a diagnostic's evidence; its table is html's
        for view in views:
            chart = view["chart"]
            if chart is not None and chart.kind in WITH_TABLE_KINDS:
                continue  # the trials' option values are not in the chart
            if view["block"] and view["criterion"] is None and chart is not None and chart.svg:
                view["tables_in_html"] = bool(view["tables"])
                view["tables"] = []
    ordered = [p.finding for p in plans]  # most important first
    blocks = [v for v in views if v["block"]]
    _dedupe_tables(blocks, shown_tables)
    matrix = check_matrix(views, ordered, by_feature=cat == "fairness")
    # the PDF: fairness one table per sensitive feature, intersections as more columns
    matrices = feature_matrices(matrix) if cat == "fairness" and not examples else []
    if not examples and not matrices:
        fold_passing_rows(matrix)
    return {
        "key": cat,
        "matrix": matrix,
        "matrices": matrices,
        "title": CATEGORY_TITLES.get(cat, cat.replace("_", " ").capitalize()),
        "lead": lead_sentence(cat, ordered),
        "findings": views,
        "blocks": blocks,
        "in_metrics_table": sum(1 for v in views if not v["in_table"]),
        # the PDF: a section none of whose checks could run is its lead sentence alone
        "only_skipped": not examples
        and bool(ordered)
        and all(str(f.get("status")) == "skipped" for f in ordered)
        and all(v["criterion"] is None for v in views),
    }


def _fairness_group_tables(
    fairness: dict[str, Any], findings: list[dict[str, Any]], *, examples: bool = True
) -> None:
    """Add the per-feature group tables; findings drop their own copy of a table shown there
    (without ``examples``, the PDF, the tables hold the first split only)."""
    fairness["group_tables"] = group_tables(
        findings, first_split_only=not examples, compact=not examples
    )
    shown_groups = {t["feature"] for t in fairness["group_tables"]}
    for view in fairness["findings"]:
        if view["sensitive"] in shown_groups:
            # the PDF's group tables hold each group's rate and ratio: a finding's own
            # per-group table repeats them (report.html keeps it)
            shown = ("groups", "disparities") + (() if examples else ("per group",))
            kept = [t for t in view["tables"] if t["title"] not in shown]
            facts = [x for x in view["facts"] if x["key"] not in shown]
            view["tables_above"] = len(kept) < len(view["tables"]) or len(facts) < len(
                view["facts"]
            )
            view["tables"], view["facts"] = kept, facts


ENVIRONMENT_KEYS = (
    "python",
    "platform",
    "machine",
    "auditor",
    "device",
    "device_name",
    "precision",
    "seed",
    "split_seed",
    "bootstrap_seed",
)


def _environment_rows(env: dict[str, Any]) -> list[tuple[str, str]]:
    """The recorded environment as (name, value) rows, in a fixed order."""
    env_rows: list[tuple[str, str]] = []
    for key in ENVIRONMENT_KEYS:
        if key in env:
            env_rows.append((key.replace("_", " "), fmt_cell(env[key])))
    return env_rows


def _model_notes_and_facts(model: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]]:
    """The model's notes, and its recorded facts as (name, value) rows."""
    model_info = model.get("info") if isinstance(model.get("info"), dict) else {}
    model_notes = [str(n) for n in model_info.get("notes") or [] if str(n).strip()]
    model_facts = [
        (k.replace("_", " "), fmt_cell(model_info[k]))
        for k in MODEL_FACTS
        if model_info.get(k) not in (None, "", [], {})
    ]
    return model_notes, model_facts


def _fingerprints(
    results: dict[str, Any], data: dict[str, Any], model: dict[str, Any]
) -> list[dict[str, str]]:
    """The SHA-256 of every data source, the model, its files and the spec file; for an
    object given in memory to the Python API (a DataFrame, a model, a spec mapping),
    ``hashed`` says what bytes the SHA-256 is of."""
    model_files = recorded_model_files(model)
    fingerprints = [
        {
            "what": f"data: {s.get('role', '')}",
            "name": str(s.get("path", "")),
            "sha256": str(s.get("sha256", "")),
            "hashed": str(s.get("hashed") or ""),
        }
        for s in data.get("sources") or []
    ]
    info = model.get("info") if isinstance(model.get("info"), dict) else {}
    fingerprints.append(
        {
            "what": "model",
            "name": str(info.get("object") or model.get("kind", "")),
            "sha256": str(model.get("fingerprint", "")),
            "hashed": str(info.get("hashed") or ""),
        }
    )
    for name, sha in model_files.items():
        fingerprints.append(
            {"what": "model file", "name": str(name), "sha256": str(sha), "hashed": ""}
        )
    spec_file = results.get("spec_file") or {}
    if spec_file.get("sha256"):
        fingerprints.append(
            {
                "what": "spec file",
                "name": str(spec_file.get("path", "")),
                "sha256": str(spec_file["sha256"]),
                "hashed": str(spec_file.get("hashed") or ""),
            }
        )
    return fingerprints


def _headline(results: dict[str, Any], spec, when: str) -> dict[str, Any]:
    """The report's title page facts: names, purpose, people, page size and run date."""
    return {
        "title": str(spec.report.title or spec.name or "Model readiness report"),
        "name": str(spec.name),
        "purpose": str(spec.objective.purpose),
        "task": str(spec.objective.task),
        # generation: the response column (data.text.response) is what the model gives
        "target": str(spec.objective.target or (results.get("data") or {}).get("target")),
        "audience": str(spec.report.audience),
        "owner": str(spec.report.owner),
        "approvers": [str(a) for a in spec.report.approvers],
        # results.json may come from anywhere: only a known size reaches the print CSS
        "page_size": spec.report.page_size if spec.report.page_size in PAGE_SIZES else "A4",
        "run_date": when,
        "auditor_version": str(results.get("auditor_version") or ""),
    }


#: The findings a next step names as its sources: report.html shows them, the PDF not.
STEP_SOURCES = re.compile(r" \(from: [^()]*(\([^()]*\)[^()]*)*\)$")


def _verdict_view(verdict: dict[str, Any], status: str) -> dict[str, Any]:
    """The verdict with its reason, blockers, next steps and how it is displayed
    (``steps_pdf``: page one's first steps, without the findings they come from)."""
    steps = [str(s) for s in verdict.get("next_steps") or []]
    return {
        "status": status,
        "reason": str(verdict.get("reason") or ""),
        "blockers": [str(b) for b in verdict.get("blockers") or []],
        "next_steps": steps,
        "steps_pdf": [STEP_SOURCES.sub("", s) for s in steps[:NEXT_STEPS_PDF]],
        **VERDICTS.get(status, VERDICTS["NOT READY"]),
    }


def _data_view(data: dict[str, Any]) -> dict[str, Any]:
    """The data section: sources, split sizes, columns, sensitive features, preprocessing."""
    split = data.get("split") or {}
    return {
        "sources": [
            {
                "role": str(s.get("role", "")),
                "path": str(s.get("path", "")),
                "format": str(s.get("format", "")),
                "rows": fmt(s.get("rows")),
                "columns": fmt(s.get("columns")),
                "sha256": str(s.get("sha256", "")),
            }
            for s in data.get("sources") or []
        ],
        "splits": [
            {"split": _column(k), "rows": fmt(v)} for k, v in (split.get("sizes") or {}).items()
        ],
        "strategy": str(split.get("strategy", "")),
        "split_seed": fmt(split.get("seed")),
        "split_words": split_words(split),
        "n_columns": fmt(len(data.get("columns") or {})),
        "n_features": fmt(len(data.get("feature_names") or [])),
        "sensitive": [str(s) for s in data.get("sensitive") or []],
        "classes": [str(c) for c in data.get("classes") or []],
        "preprocessing": [
            (k.replace("_", " "), fmt_cell(v)) for k, v in (data.get("preprocessing") or {}).items()
        ],
    }


def _fit_view(
    model: dict[str, Any], evaluation: dict[str, Any], criteria: list[dict[str, Any]]
) -> dict[str, Any]:
    """The fit section: the training history and the baselines table."""
    return {
        "history": history_summary(model),
        "baselines": baselines_table(
            evaluation,
            metrics=[str(evaluation.get("primary_metric") or "")]
            + [str((c.get("criterion") or {}).get("metric") or "") for c in criteria],
        ),
    }


def _performance_view(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The performance section: the metrics table, confidence, bootstrap and threshold."""
    threshold_info = evaluation.get("threshold_info") or {}
    return {
        "metrics": metrics_table(evaluation),
        "primary": metric_name(evaluation.get("primary_metric", "")),
        "confidence": _percent(evaluation.get("confidence")),
        "bootstrap": fmt(evaluation.get("bootstrap")),
        "threshold": fmt(_num(evaluation.get("threshold"))),
        "threshold_strategy": str(threshold_info.get("strategy") or ""),
        "threshold_on": str(threshold_info.get("chosen_on") or ""),
    }
