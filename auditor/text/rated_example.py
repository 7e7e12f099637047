"""The seeded generator of the judged example (``data.generate: support_rated``).

The support assistant's answers of :func:`auditor.text.example.support`, with what a judged
audit reads besides:

- ``rated_groundedness``: a person's 1-5 groundedness rating for a share of rows
  (``RATED_SHARE``; blank elsewhere): 5 for an answer the passage supports, 2 for one with
  a planted hallucination, one point off in ``RATER_NOISE`` of the rated rows;
- ``previous_response``: the previous version of the assistant's answer to the same
  question (the help centre's answer, its first sentence only, so shorter and never
  hallucinated), for the pairwise comparison (``data.text.compare``).
"""

from __future__ import annotations

import numpy as np

from auditor.text.example import support

RATED_SHARE = 0.5
RATER_NOISE = 0.1


def support_rated(rng: np.random.Generator, n: int, shift: float = 0.0):
    """``n`` rows of :func:`~auditor.text.example.support` with ratings and a second answer."""
    df = support(rng, n, shift)
    extra = np.random.default_rng(rng.integers(0, 2**32))  # after the base draws: same rows
    truth = np.where(df["planted_hallucination"].to_numpy(), 2.0, 5.0)
    noise = (extra.random(n) < RATER_NOISE) * np.where(truth == 5.0, -1.0, 1.0)
    rated = extra.random(n) < RATED_SHARE
    df["rated_groundedness"] = np.where(rated, truth + noise, np.nan)
    df["previous_response"] = [r.split(". ")[0].rstrip(".") + "." for r in df["reference"]]
    return df
