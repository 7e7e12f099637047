"""The generated-text report's tables: the rows behind the figures, and who scored them.

From results.json alone (what the text checks wrote in their findings' details and the
evaluation's notes), :func:`text_tables` builds what ``templates/_text_tables.html.j2``
displays:

- the worst rows of each text metric a criterion names or the LLM judge scored: the
  question, an excerpt of the context, the response, the score and, where judged, the
  judge's explanation (a 0/1 rate shows only its flagged rows);
- the worst counterfactual pairs: each side's question and response, their similarity and
  sentiment gap;
- the worst memorized rows (the reproduced span marked) and contaminated rows, with where
  in the corpus the span is;
- which local model and which judge prompt scored what: name, version, SHA-256.

Every string is data and stays data: values are plain ``str`` (the template escapes
them), and a marked span is a list of (text, marked) pieces the template wraps in ``<b>``,
never markup built here.
"""

from __future__ import annotations

import math
import re
from typing import Any

from auditor.types import LM_TASKS

#: The finding details shown here, not as a finding's generic table (context.EVIDENCE_ONLY).
TEXT_ROWS = frozenset({"worst_rows", "worst_pairs"})
#: Worst-row tables shown at most (criteria's metrics first, then the judged ones).
MAX_METRIC_TABLES = 6
#: Rows per table (the checks keep five).
MAX_ROWS = 5
#: Characters of a context excerpt (a response or question is shown as the check kept it).
CONTEXT_CHARS = 160
_MARK = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


def num(value: Any) -> str:
    """A score as the tables show it: up to three significant decimals, '—' when absent."""
    if value is None or isinstance(value, bool):
        return "\u2014"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "\u2014"
    if math.isnan(x):
        return "n/a"
    return f"{x:.0f}" if x.is_integer() and abs(x) >= 1 else f"{x:.3g}"


def signed(value: Any) -> str:
    text = num(value)
    return text if text.startswith(("-", "\u2014", "n/a")) or text == "0" else f"+{text}"


def excerpt(text: Any, limit: int) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "\u2026"


def marked(text: Any) -> list[dict[str, Any]]:
    """``[[span]]`` marks (:func:`auditor.text.memorization.marked_excerpt`) as pieces."""
    s = "" if text is None else str(text)
    out, at = [], 0
    for m in _MARK.finditer(s):
        if m.start() > at:
            out.append({"text": s[at : m.start()], "marked": False})
        out.append({"text": m.group(1), "marked": True})
        at = m.end()
    if at < len(s):
        out.append({"text": s[at:], "marked": False})
    return out


def _details(f: dict) -> dict:
    d = f.get("details")
    return d if isinstance(d, dict) else {}


def _findings(results: dict) -> list[dict]:
    return [f for f in results.get("findings") or [] if isinstance(f, dict)]


def _wanted_metrics(results: dict, findings: list[dict]) -> list[str]:
    """Metrics whose worst rows are shown: those the criteria name, then the judged ones."""
    names = []
    for c in results.get("criteria") or []:
        metric = (c.get("criterion") or {}).get("metric") if isinstance(c, dict) else None
        if metric:
            names.append(str(metric))
    names += [str(f.get("metric")) for f in findings if "judge" in _details(f)]
    return list(dict.fromkeys(names))


def _metric_table(f: dict) -> dict | None:
    d = _details(f)
    rows = [r for r in d.get("worst_rows") or [] if isinstance(r, dict)][:MAX_ROWS]
    rate = not d.get("higher_is_better", True) and all(
        r.get("score") in (0, 1, 0.0, 1.0) for r in rows
    )
    if rate:  # a 0/1 rate: its flagged rows only
        rows = [r for r in rows if r.get("score") in (1, 1.0)]
    if not rows:
        return None
    judged = "judge" in d
    label = str(d.get("label") or f.get("title") or f.get("metric"))
    # the second column: the context the answer should rest on, else the reference answer
    second = "context" if any(r.get("context") for r in rows) else "reference"
    if not any(r.get(second) for r in rows):
        second = ""
    return {
        "title": f"{label} on {f.get('split')}: "
        + ("the rows it flagged" if rate else "the lowest-scoring rows"),
        "judged": judged,
        "heuristic": bool(d.get("heuristic")),
        "second": {"context": "Context (excerpt)", "reference": "Reference"}.get(second, ""),
        "rows": [
            {
                "id": str(r.get("id", "")),
                "question": str(r.get("question", "")),
                "second": excerpt(r.get(second, ""), CONTEXT_CHARS) if second else "",
                "response": str(r.get("response", "")),
                "score": num(r.get("score")),
                "explanation": str(r.get("explanation", "")) if judged else "",
            }
            for r in rows
        ],
    }


def worst_rows(results: dict) -> list[dict]:
    """The worst-row tables of the metrics criteria name or the judge scored."""
    findings = _findings(results)
    wanted = _wanted_metrics(results, findings)
    out = []
    for metric in wanted:
        for f in findings:
            d = _details(f)
            if (
                f.get("check") == "text"
                and f.get("metric") == metric
                and not f.get("sensitive")
                and d.get("pass_at") is None
            ):
                table = _metric_table(f)
                if table is not None:
                    out.append(table)
    return out[:MAX_METRIC_TABLES]


def worst_pairs(results: dict) -> list[dict]:
    """The least alike counterfactual pairs, one table per split and compared variant."""
    out = []
    for f in _findings(results):
        if f.get("check") != "counterfactual" or f.get("status") == "skipped":
            continue
        d = _details(f)
        pairs = [p for p in d.get("worst_pairs") or [] if isinstance(p, dict)][:MAX_ROWS]
        if not pairs:
            continue
        variant, reference = str(d.get("variant", "")), str(d.get("reference_variant", ""))
        out.append(
            {
                "title": f"{variant} against {reference} on {f.get('split')}: the pairs "
                "answered least alike",
                "variant": variant,
                "reference": reference,
                "rows": [
                    {
                        "pair": str(p.get("pair", "")),
                        "question": str(p.get("question", "")),
                        "response": str(p.get("response", "")),
                        "reference_question": str(p.get("reference_question", "")),
                        "reference_response": str(p.get("reference_response", "")),
                        "similarity": num(p.get("similarity")),
                        "sentiment_gap": signed(p.get("sentiment_gap")),
                        "refusal_gap": signed(p.get("refusal_gap")),
                    }
                    for p in pairs
                ],
            }
        )
    return out


def corpus_rows(results: dict) -> list[dict]:
    """The worst memorized responses and contaminated rows, with where in the corpus."""
    out = []
    for f in _findings(results):
        check = f.get("check")
        if check not in ("memorization", "contamination") or f.get("sensitive"):
            continue
        d = _details(f)
        rows = [r for r in d.get("worst_rows") or [] if isinstance(r, dict)][:MAX_ROWS]
        if not rows:
            continue
        memorized = check == "memorization"
        out.append(
            {
                "title": (
                    f"Responses reproducing the corpus on {f.get('split')}: the longest spans"
                    if memorized
                    else f"Evaluation rows found in the corpus on {f.get('split')}"
                ),
                "memorized": memorized,
                "rows": [
                    {
                        "id": str(r.get("id", "")),
                        "what": "response" if memorized else str(r.get("role", "")),
                        "text": marked(r.get("response") if memorized else r.get("text")),
                        "extent": (
                            f"{num(r.get('span_words'))} words"
                            if memorized
                            else f"{100 * float(r.get('share') or 0):.0f}% of its n-grams"
                        ),
                        "line": num(r.get("corpus_line")),
                        "corpus": str(r.get("corpus", "")),
                    }
                    for r in rows
                ],
            }
        )
    return out


def scorers(results: dict) -> list[dict]:
    """Which local model, and which judge prompt, scored what: name, version, SHA-256."""
    findings = _findings(results)
    notes = (results.get("evaluation") or {}).get("notes") or {}
    out = []
    for m in notes.get("text_models") or []:
        if not isinstance(m, dict):
            continue
        scored = sorted(
            {
                str(f.get("metric"))
                for f in findings
                if any(
                    isinstance(x, dict) and x.get("fingerprint") == m.get("fingerprint")
                    for x in _details(f).get("models") or []
                )
            }
        )
        out.append(
            {
                "role": str(m.get("role", "")),
                "name": str(m.get("name", "")),
                "version": str(m.get("version") or "\u2014"),
                "sha256": str(m.get("fingerprint", "")),
                "scored": ", ".join(scored) or "\u2014",
            }
        )
    judge = notes.get("judge") if isinstance(notes.get("judge"), dict) else None
    if judge:
        version = next(
            (
                str(_details(f)["judge"].get("rubric_version"))
                for f in findings
                if isinstance(_details(f).get("judge"), dict)
                and _details(f)["judge"].get("rubric_version")
            ),
            "\u2014",
        )
        for metric, sha in (judge.get("prompt_sha256") or {}).items():
            out.append(
                {
                    "role": f"LLM judge, {metric} prompt",
                    "name": str(judge.get("model", "")),
                    "version": f"rubric {version}",
                    "sha256": str(sha),
                    "scored": str(metric),
                }
            )
    return out


def text_tables(results: dict) -> dict | None:
    """Everything the text tables partial shows; None when the audit is not of text."""
    tables = {
        "worst": worst_rows(results),
        "pairs": worst_pairs(results),
        "corpus": corpus_rows(results),
        "scorers": scorers(results),
    }
    if not any(tables.values()):
        return None
    lm = (results.get("data") or {}).get("task") in LM_TASKS  # answers to held-out prompts
    return {
        **tables,
        "question": "Prompt" if lm else "Question",
        "response": "The model's answer" if lm else "Response",
    }
