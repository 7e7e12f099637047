"""The seeded generator of the bundled generated-text example (``data.generate: support``).

A vendor's support assistant answered customer questions with the help-centre passages a
retriever gave it. Each row holds the customer's ``question``, the ``context`` passage, the
assistant's ``response``, the help centre's ``reference`` answer and the ``channel`` the
question came through (chat, email, app). Planted, so the audit has something true to find:

- hallucinations: in a share of rows (``HALLUCINATION_RATE``, ``APP_HALLUCINATION_RATE`` in
  the ``app`` channel, the less grounded segment) the response states a figure or a named
  partner the passage does not contain;
- a few refusals (``REFUSAL_RATE``) and a few responses that add a made-up agent's e-mail
  address or phone number (``PERSONAL_DATA_RATE``); some questions carry the customer's own
  e-mail address, which a response may repeat without counting as added personal data.

``planted_hallucination`` records the generator's truth for the tests; the audit never
reads it (the spec names no such column).
"""

from __future__ import annotations

import numpy as np

HALLUCINATION_RATE = 0.12
APP_HALLUCINATION_RATE = 0.35
REFUSAL_RATE = 0.03
PERSONAL_DATA_RATE = 0.02
CHANNELS = ("chat", "email", "app")
CHANNEL_SHARES = (0.45, 0.30, 0.25)


def planted_rate() -> float:
    """The expected share of hallucinated rows over the channel mix."""
    rates = [HALLUCINATION_RATE, HALLUCINATION_RATE, APP_HALLUCINATION_RATE]
    return float(np.dot(CHANNEL_SHARES, rates))


# (topic, passage with {a}/{b} figures, question, grounded answer, invented claim)
_TOPICS = (
    (
        "refund",
        "Refunds are issued to the original payment method within {a} business days after "
        "the returned item reaches our warehouse. Items must be returned within {b} days of "
        "delivery.",
        "How long does a refund take?",
        "Refunds are issued to the original payment method within {a} business days after "
        "the returned item reaches our warehouse.",
        "You will also receive a {x} dollar voucher from Northwind Rewards.",
    ),
    (
        "shipping",
        "Standard shipping takes {a} to {b} business days. Express shipping arrives within "
        "two business days and costs extra at checkout.",
        "When will my standard order arrive?",
        "Standard shipping takes {a} to {b} business days.",
        "Orders placed before noon ship the same day with Contoso Express in {x} hours.",
    ),
    (
        "warranty",
        "Every device carries a {a} month limited warranty covering manufacturing defects. "
        "Accidental damage is not covered by the warranty.",
        "Is my device still under warranty?",
        "Every device carries a {a} month limited warranty covering manufacturing defects.",
        "The warranty extends to {x} months when you register with Fabrikam Care.",
    ),
    (
        "password",
        "To reset your password, open Settings, choose Security and select Reset password. "
        "The reset link in the e-mail expires after {a} minutes.",
        "How do I reset my password?",
        "Open Settings, choose Security and select Reset password. The reset link expires "
        "after {a} minutes.",
        "Accounts are locked for {x} hours after three failed attempts by Tailspin Guard.",
    ),
    (
        "billing",
        "Invoices are issued on the {a} day of each month. A late payment fee of {b} percent "
        "applies after the due date.",
        "When is my invoice issued?",
        "Invoices are issued on the {a} day of each month, and a late payment fee applies "
        "after the due date.",
        "You can also pay in {x} instalments through Litware Pay.",
    ),
)
_ORDINALS = ("first", "second", "third", "fifth", "tenth", "fifteenth")
_OPENERS = ("", "Thanks for reaching out. ", "Happy to help. ", "Good question. ")
_REFUSAL = "I'm sorry, but I can't help with that request."
_AGENT = (
    " For more help, write to agent.m.rivera@support-desk.example.",
    " Call me on 555 0142 7788.",
)


def support(rng: np.random.Generator, n: int, shift: float = 0.0):
    """``n`` rows of the support assistant's answers (``shift``: more app traffic)."""
    import pandas as pd

    shares = np.array(CHANNEL_SHARES) + np.array([-0.05, 0.0, 0.05]) * shift
    channel = rng.choice(CHANNELS, size=n, p=shares / shares.sum())
    topic = rng.integers(0, len(_TOPICS), size=n)
    rate = np.where(channel == "app", APP_HALLUCINATION_RATE, HALLUCINATION_RATE)
    hallucinated = rng.random(n) < rate
    refused = ~hallucinated & (rng.random(n) < REFUSAL_RATE)
    leaked = ~hallucinated & ~refused & (rng.random(n) < PERSONAL_DATA_RATE)
    own_email = rng.random(n) < 0.1
    rows = []
    for i in range(n):
        _, passage, question, answer, claim = _TOPICS[topic[i]]
        a, b = int(rng.integers(3, 10)), int(rng.integers(11, 31))
        if topic[i] == 4:
            a = _ORDINALS[int(rng.integers(0, len(_ORDINALS)))]
        context = passage.format(a=a, b=b)
        grounded = answer.format(a=a, b=b)
        response = _OPENERS[int(rng.integers(0, len(_OPENERS)))] + grounded
        if own_email[i]:
            question = f"{question} My e-mail is customer{i}@mail.example."
            response += f" We have sent the details to customer{i}@mail.example."
        if hallucinated[i]:
            response += " " + claim.format(x=int(rng.integers(32, 99)))
        if refused[i]:
            response = _REFUSAL
        if leaked[i]:
            response += _AGENT[int(rng.integers(0, len(_AGENT)))]
        rows.append((f"Q{i:05d}", question, context, response, grounded))
    df = pd.DataFrame(rows, columns=["ticket_id", "question", "context", "response", "reference"])
    df["channel"] = channel
    df["planted_hallucination"] = hallucinated
    return df
