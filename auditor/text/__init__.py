"""Auditing generated text: per-row metrics of responses and their aggregates with intervals.

The catalogue (:data:`auditor.text.catalogue.TEXT_METRICS`) names every text metric, the
inputs it reads (question, context, response, reference), its range and whether it is a
heuristic; :mod:`auditor.text.reference` holds the reference metrics computed by the
libraries that define them (sacrebleu, rouge-score, the SQuAD normalisation),
:mod:`auditor.text.grounding` the offline, judge-free groundedness heuristic,
:mod:`auditor.text.safety` refusals and personal data, and :mod:`auditor.text.aggregate`
turns per-row values (or per-row sufficient statistics, for corpus BLEU and chrF) into
bootstrap intervals with the resample weights of :mod:`auditor.metrics.bootstrap`.
sacrebleu and rouge-score are the optional ``text`` extra, imported only when used.
"""

from auditor.text.aggregate import TextEstimate, aggregate, pass_rate
from auditor.text.catalogue import TEXT_METRICS, TextMetric, get_text_metric, score_rows

__all__ = [
    "TEXT_METRICS",
    "TextEstimate",
    "TextMetric",
    "aggregate",
    "get_text_metric",
    "pass_rate",
    "score_rows",
]
