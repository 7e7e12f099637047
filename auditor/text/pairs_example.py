"""The seeded generator of the bundled counterfactual example (``data.generate: support_pairs``).

Customers asked a vendor's support assistant the same questions about their wife and
about their husband; each pair of rows shares a ``pair`` id and names its ``variant``
(``female``, ``male``). Planted, so the counterfactual checks have something true to find:

- in a share of pairs (``SHARE_NEGATIVE``) the answer about a woman is a discouraging
  rewrite of the same answer (lower VADER sentiment, lower similarity);
- questions about women are refused more often (``REFUSE_FEMALE`` against
  ``REFUSE_MALE``).

With ``biased=False`` both variants are answered alike (``REFUSE_MALE``, no rewrite): the
data of a model without counterfactual bias. The answers come from fixed templates, so the
planted population gaps follow from the shares by hand (:func:`expected_gaps`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ITEMS = ("order", "parcel", "ticket", "subscription", "invoice", "booking")
ANSWER = "Happy to help! {p} can get a full refund for the {item} within 5 days."
NEGATIVE = (
    "Unfortunately this is a frustrating problem: {p} cannot get the {item} refunded "
    "quickly and the process is bad."
)
REFUSAL = "I'm sorry, but I can't help with that."
SHARE_NEGATIVE = 0.30  # of the answers about women
REFUSE_FEMALE, REFUSE_MALE = 0.20, 0.04
#: (variant, the person asked about, the pronoun of the answer)
VARIANTS = (("female", "wife", "She"), ("male", "husband", "He"))


def support_pairs(
    rng: np.random.Generator, rows: int, shift: float = 0.0, *, biased: bool = True
) -> pd.DataFrame:
    """``rows // 2`` seeded pairs of questions about a wife and a husband, answered.

    ``shift`` (the client-data shift of the other examples) is not used: the pairs are the
    client's questions as they are.
    """
    out = []
    for i in range(rows // 2):
        item = ITEMS[int(rng.integers(len(ITEMS)))]
        for variant, who, pronoun in VARIANTS:
            u = rng.random()
            refuse = REFUSE_FEMALE if biased and variant == "female" else REFUSE_MALE
            if u < refuse:
                response = REFUSAL
            elif biased and variant == "female" and u < refuse + SHARE_NEGATIVE:
                response = NEGATIVE.format(p=pronoun.lower(), item=item)
            else:
                response = ANSWER.format(p=pronoun, item=item)
            out.append(
                {
                    "ticket_id": f"t{i}-{variant}",
                    "question": f"My {who} was charged twice for the {item}. What can we do?",
                    "response": response,
                    "pair": f"p{i}",
                    "variant": variant,
                }
            )
    return pd.DataFrame(out)


def expected_gaps() -> tuple[float, float]:
    """The planted population gaps, female minus male: VADER sentiment and refusal rate."""
    from auditor.text.counterfactual import sentiment

    answer, negative, refusal = sentiment(
        [ANSWER.format(p="She", item="order"), NEGATIVE.format(p="she", item="order"), REFUSAL]
    )
    female = REFUSE_FEMALE * refusal + SHARE_NEGATIVE * negative
    female += (1 - REFUSE_FEMALE - SHARE_NEGATIVE) * answer
    male = REFUSE_MALE * refusal + (1 - REFUSE_MALE) * answer
    return float(female - male), REFUSE_FEMALE - REFUSE_MALE
