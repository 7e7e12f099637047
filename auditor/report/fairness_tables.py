"""The PDF's fairness tables: one per sensitive feature, each group's key rates beside its
ratio to the reference group's, on one split.

report.html shows, per feature, every rate on every split and a second table of every
ratio to the reference group (:func:`auditor.report.context.group_tables`). The PDF a
product manager signs folds those into one table per feature (and one per intersection),
on the first split in report order (the test split, else the first client split), with
the rates the fairness metrics are made of: each cell "0.478 ×0.72", the group's rate and
its ratio to the reference group's. Every rate and ratio of every split stays in
report.html and results.json.
"""

from __future__ import annotations

from typing import Any

#: The rates the PDF shows per group, in this order, those the task measures (the first
#: ``PDF_RATES_SHOWN``): what the fairness metrics are made of.
PDF_RATES = (
    "base_rate",
    "selection_rate",
    "tpr",
    "fpr",
    "accuracy",
    "mean_prediction",
    "mean_target",
    "mae",
)
PDF_RATES_SHOWN = 5


def compact_group_table(
    feature: str,
    per_split: dict[str, list[dict[str, Any]]],
    disparities: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """One feature's (or intersection's) groups on the first split: rows, the key rates,
    each with its ratio to the reference group when the feature has one (``disparities``:
    :func:`~auditor.report.context.disparity_details`, {split: finding details})."""
    from auditor.metrics.fairness import GROUP_RATES
    from auditor.report.context import MAX_TABLE_ROWS, _column, fmt, fmt_cell, ordered_splits

    split = ordered_splits(per_split)[0]
    groups = [g for g in per_split[split] if isinstance(g, dict)]
    present = [r for r in PDF_RATES if any(r in g for g in groups)][:PDF_RATES_SHOWN]
    details = disparities.get(split)
    ratios = {
        str(g.get("group")): g
        for g in (details or {}).get("disparities") or []
        if isinstance(g, dict)
    }
    rows = []
    for g in groups:
        ratio = ratios.get(str(g.get("group")), {})
        cells = [str(g.get("group", "")), fmt(g.get("n"))]
        for rate in present:
            label = GROUP_RATES[rate].short_label if rate in GROUP_RATES else rate
            times = ratio.get(f"{label} ratio")
            text = fmt_cell(g.get(rate))
            cells.append(text if times is None else f"{text} \u00d7{fmt(float(times))}")
        rows.append({"cells": cells, "flagged": bool(g.get("inconclusive"))})
    shown = feature.replace("&", " & ")
    where = _column(split)
    if details is not None:
        ref = details.get("reference_group")
        title = f"Groups of {shown} ({where}): each rate \u00d7 its ratio to {ref}'s"
    elif "&" in feature:
        title = f"Intersections of {shown} ({where}): groups"
    else:
        title = f"Groups of {shown} ({where})"
    columns = ["group", "rows"] + [
        GROUP_RATES[r].short_label if r in GROUP_RATES else r.replace("_", " ") for r in present
    ]
    return {
        "title": title,
        "feature": feature,
        "columns": columns,
        "rows": rows[:MAX_TABLE_ROWS],
        "more": max(0, len(rows) - MAX_TABLE_ROWS),
    }


def feature_matrices(matrix: dict[str, Any]) -> list[dict[str, Any]]:
    """The fairness section's table split into one table per sensitive feature: a row per
    metric, a column per split, and the intersections that start with the feature folded
    in as more columns (``sex & age_band, test``), instead of a row per metric per
    feature and intersection.

    ``matrix`` is :func:`auditor.report.context.check_matrix`'s (``by_feature``); each of
    its rows is one metric on one feature or intersection, with a cell per split.
    """
    splits = list(matrix["splits"])
    scopes: dict[str, list[str]] = {}  # first feature -> its scopes (itself first)
    for row in matrix["rows"]:
        scope = row["sensitive"]
        first = scope.split("&")[0].strip()
        scopes.setdefault(first, [])
        if scope not in scopes[first]:
            scopes[first].append(scope)
    out = []
    for first, members in scopes.items():
        members.sort(key=lambda s: ("&" in s, s))
        columns = [(scope, split) for scope in members for split in splits]
        rows: dict[str, dict[str, Any]] = {}
        for row in matrix["rows"]:
            if row["sensitive"] not in members:
                continue
            stem = _stem(row["label"], row["sensitive"])
            merged = rows.get(stem)
            if merged is None:
                merged = rows[stem] = {
                    **row,
                    "label": stem,
                    "criteria": [],
                    "cells": {},
                    "span": None,
                    "sensitive": first,
                }
            merged["criteria"] += [c for c in row["criteria"] if c not in merged["criteria"]]
            merged["anchor"] = merged["anchor"] or row["anchor"]
            for split, cell in zip(splits, row["cells"], strict=True):
                merged["cells"][(row["sensitive"], split)] = cell
        for merged in rows.values():
            merged["cells"] = [merged["cells"].get(c) for c in columns]
        labels = [
            split if scope == first else f"{scope.replace('&', ' & ')}: {split}"
            for scope, split in columns
        ]
        out.append(
            {
                "title": f"Across {first}" + (" and its intersections" if len(members) > 1 else ""),
                "feature": first,
                "splits": labels,
                "rows": list(rows.values()),
                "folded": [],
            }
        )
    return out


def _stem(label: str, scope: str) -> str:
    """'Demographic parity difference across sex' -> 'Demographic parity difference'."""
    for word in (" across ", " by ", " for "):
        suffix = f"{word}{scope}"
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label
