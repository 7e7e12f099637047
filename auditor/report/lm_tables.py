"""What a language model's report shows beside its findings: the corpus, the perplexities.

A language model (``objective.task: language_model``) has no performance or fairness of a
tabular classifier and no feature columns; its report has a data section and a fit section
(:func:`shown_sections`), and :func:`lm_view` gives the template (``_lm_tables.html.j2``)
its tables, read from results.json alone:

- data: the corpus (documents read, exact and near duplicates removed before splitting),
  documents and scored tokens per split, what is learned (every token, or the responses of
  instruction/response pairs);
- fit: the model (trained from scratch, or the checkpoint fine-tuned and how), perplexity
  per split with its interval, the gap to the training split, the checkpoint's perplexity
  before fine-tuning where it was scored, the learning curve's points (and its chart), and
  the training documents the model reproduced furthest (extraction examples).

Values arrive formatted; the template only displays them (autoescaped).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.types import LM_TASKS

#: The sections of a language model's report (no performance or fairness of a classifier).
LM_SECTIONS = ("data", "fit")
SPLITS = ("train", "validation", "test")
#: Characters of a text shown in the extraction examples (the rest is in results.json).
EXAMPLE_CHARS = 160


def is_lm(results: dict[str, Any]) -> bool:
    return (results.get("data") or {}).get("task") in LM_TASKS


def shown_sections(results: dict[str, Any], default: tuple[str, ...]) -> tuple[str, ...]:
    """The sections every report of this kind shows: data and fit for a language model."""
    return LM_SECTIONS if is_lm(results) else default


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def _ci(ci: Any, digits: int = 1) -> str:
    if not isinstance(ci, list | tuple) or len(ci) != 2 or None in ci:
        return ""
    return f"{_fmt(ci[0], digits)} to {_fmt(ci[1], digits)}"


def _clip(text: Any) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _by_id(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(f.get("id")): f for f in results.get("findings") or [] if isinstance(f, dict)}


def corpus_view(results: dict[str, Any], findings: dict[str, dict]) -> dict[str, Any]:
    split = (results.get("data") or {}).get("split") or {}
    corpus = split.get("corpus") or {}
    sizes = split.get("sizes") or {}
    info = ((results.get("model") or {}).get("info")) or {}
    rows = []
    for s in SPLITS:
        if s not in sizes:
            continue
        details = (findings.get(f"fit.perplexity.{s}") or {}).get("details") or {}
        rows.append(
            {"split": s, "documents": _fmt(sizes[s], 0), "tokens": _fmt(details.get("tokens"), 0)}
        )
    learned = info.get("learned_tokens")
    return {
        "documents": _fmt(corpus.get("documents"), 0),
        "exact": _fmt(corpus.get("exact_duplicates_removed"), 0),
        "near": _fmt(corpus.get("near_duplicates_removed"), 0),
        "kept": _fmt(corpus.get("kept"), 0),
        "seed": _fmt(split.get("seed"), 0),
        "splits": rows,
        "learned": (
            "the responses of instruction/response pairs (the prompts are given, never "
            "predicted or scored)"
            if learned == "responses"
            else "every token of each document"
        ),
    }


def model_view(results: dict[str, Any]) -> list[tuple[str, str]]:
    """The model in a few facts: from scratch or which checkpoint, tuned how."""
    info = ((results.get("model") or {}).get("info")) or {}
    config = info.get("config") or {}
    facts: list[tuple[str, str]] = []
    if config.get("architecture") == "pretrained_lm":
        facts.append(("checkpoint", str(config.get("path", ""))))
        how = str(config.get("fine_tune", ""))
        lora = config.get("lora") or {}
        if how == "lora" and lora:
            targets = ", ".join(lora.get("target_modules") or []) or "peft's default"
            how += f" (rank {lora.get('rank')}, alpha {_fmt(lora.get('alpha'), 0)}, on {targets})"
        facts.append(("fine-tuning", how))
        if config.get("freeze"):
            facts.append(("frozen", ", ".join(config["freeze"])))
    else:
        facts.append(
            (
                "trained from scratch",
                f"{config.get('layers')} blocks of width {config.get('width')}, "
                f"{config.get('heads')} heads",
            )
        )
    facts.append(("context", f"{_fmt(config.get('context_length'), 0)} tokens"))
    tokenizer = info.get("tokenizer") or {}
    if tokenizer:
        facts.append(("vocabulary", f"{_fmt(tokenizer.get('vocabulary_size'), 0)} tokens"))
    if info.get("trainable_parameters") is not None:
        facts.append(
            (
                "trained parameters",
                f"{_fmt(info['trainable_parameters'], 0)} of {_fmt(info.get('parameters'), 0)}",
            )
        )
    if info.get("tokens_per_second"):
        facts.append(("throughput", f"{_fmt(info['tokens_per_second'], 0)} tokens/s"))
    return facts


def perplexity_rows(findings: dict[str, dict]) -> tuple[list[dict[str, str]], bool]:
    """A row per split: perplexity and interval, gap to train, before fine-tuning."""
    rows, any_base = [], False
    for s in SPLITS:
        f = findings.get(f"fit.perplexity.{s}")
        if not f:
            continue
        gap = findings.get(f"fit.perplexity_gap.{s}") or {}
        gain = findings.get(f"fit.fine_tuning_gain.{s}") or {}
        base = (gain.get("details") or {}).get("base_perplexity")
        any_base = any_base or base is not None
        rows.append(
            {
                "split": s,
                "perplexity": _fmt(f.get("value")),
                "ci": _ci(f.get("ci")),
                "gap": (
                    f"{100 * float(gap['value']):+.1f}%" if gap.get("value") is not None else ""
                ),
                "gap_ci": (
                    f"{100 * gap['ci'][0]:+.1f}% to {100 * gap['ci'][1]:+.1f}%"
                    if isinstance(gap.get("ci"), list) and None not in gap["ci"]
                    else ""
                ),
                "base": _fmt(base) if base is not None else "",
            }
        )
    general = (findings.get("fit.forgetting") or {}).get("details") or {}
    if general.get("perplexity") is not None:
        any_base = True
        rows.append(
            {
                "split": "general text",
                "perplexity": _fmt(general.get("perplexity")),
                "ci": "",
                "gap": "",
                "gap_ci": "",
                "base": _fmt(general.get("base_perplexity")),
            }
        )
    return rows, any_base


def curve_view(
    results: dict[str, Any], findings: dict[str, dict], draw_chart: Callable[[dict], Any]
) -> dict[str, Any] | None:
    points = ((results.get("evaluation") or {}).get("learning_curve")) or []
    if len(points) < 2:
        return None
    finding = findings.get("fit.lm_learning_curve") or {}
    chart = draw_chart(finding["chart"]) if isinstance(finding.get("chart"), dict) else None
    return {
        "title": str(finding.get("title", "Learning curve")),
        "rows": [
            {
                "fraction": f"{100 * float(p.get('fraction', 0)):.0f}%",
                "documents": _fmt(p.get("rows"), 0),
                "train": _fmt(p.get("train")),
                "validation": _fmt(p.get("validation")),
            }
            for p in points
        ],
        "svg": getattr(chart, "svg", None),
    }


def extraction_rows(findings: dict[str, dict]) -> list[dict[str, str]]:
    details = (findings.get("fit.extraction") or {}).get("details") or {}
    return [
        {
            "document": _fmt(e.get("document"), 0),
            "matched": f"{_fmt(e.get('matched_tokens'), 0)} of "
            f"{_fmt(details.get('verbatim_tokens'), 0)}",
            "prefix": _clip(e.get("prefix")),
            "continuation": _clip(e.get("continuation")),
            "completion": _clip(e.get("completion")),
        }
        for e in details.get("examples") or []
        if isinstance(e, dict)
    ]


def lm_view(results: dict[str, Any], draw_chart: Callable[[dict], Any]) -> dict[str, Any] | None:
    """The language-model tables of the data and fit sections; None for other tasks."""
    if not is_lm(results):
        return None
    findings = _by_id(results)
    perplexities, with_base = perplexity_rows(findings)
    return {
        "corpus": corpus_view(results, findings),
        "model": model_view(results),
        "perplexity": perplexities,
        "with_base": with_base,
        "curve": curve_view(results, findings, draw_chart),
        "examples": extraction_rows(findings),
    }
