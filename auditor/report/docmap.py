"""Which report section answers which documentation item.

Two checklists: the model card of Mitchell et al. (2019), "Model Cards for Model
Reporting", and the technical documentation of Annex IV of the EU AI Act (Regulation
(EU) 2024/1689). The map is data, shown as a table in the appendix; an item the report
cannot answer on its own says so, rather than pretending.
"""

from __future__ import annotations

# (item, where the report answers it, note)
MODEL_CARD: tuple[tuple[str, str, str], ...] = (
    (
        "Model details",
        "Page one; Appendix (spec, fingerprints, environment)",
        "Owner, version of auditor, architecture and training settings in the resolved spec.",
    ),
    (
        "Intended use",
        "Page one (what the model is for)",
        "The spec's objective.purpose, in the owner's words.",
    ),
    (
        "Factors",
        "Data (each group's share); Fairness",
        "The sensitive features declared in the spec and their intersections.",
    ),
    (
        "Metrics",
        "Page one (criteria); Performance",
        "Every metric with its bootstrap confidence interval and the decision threshold.",
    ),
    (
        "Evaluation data",
        "Data (sources, rows per split, fingerprints)",
        "Test split and, when declared, the client holdout.",
    ),
    (
        "Training data",
        "Data; Appendix (fingerprints)",
        "Training rows, preprocessing fitted on them only, SHA-256 of each file.",
    ),
    (
        "Quantitative analyses",
        "Performance; Fairness (per group and intersection)",
        "Groups too small to judge are marked inconclusive, never passed.",
    ),
    (
        "Ethical considerations",
        "Fairness; Page one (pickle warning); page two (waivers)",
        "Only what was measured; a human review of uses and harms is still needed.",
    ),
    (
        "Caveats and recommendations",
        "Page one (the main blocker's chart, next steps); each finding",
        "Each finding carries a recommendation where one applies.",
    ),
)

ANNEX_IV: tuple[tuple[str, str, str], ...] = (
    (
        "1. General description of the AI system",
        "Page one; Appendix (spec, environment)",
        "Intended purpose, provider (owner), versions, hardware (device).",
    ),
    (
        "2. Detailed description of the elements and of the development process",
        "Data; Fit; Appendix (resolved spec, fingerprints)",
        "Design choices, training data and preprocessing, validation and testing.",
    ),
    (
        "3. Monitoring, functioning and control",
        "Performance; Fairness; Page one",
        "Capabilities and limitations, accuracy for specific groups, foreseeable outcomes.",
    ),
    (
        "4. Appropriateness of the performance metrics",
        "Page one (criteria and rationale)",
        "Each criterion states its bound and, when given, why.",
    ),
    (
        "5. Risk management system",
        "Partly: page one (criteria, blocker); page two (waivers)",
        "The report is evidence for, not a substitute for, the Article 9 process.",
    ),
    (
        "6. Relevant changes through the lifecycle",
        "Page two (against the previous report); Appendix (fingerprints, attachments)",
        "Re-run the audit for each change with --against the approved run's results.json.",
    ),
    (
        "7. Harmonised standards and specifications applied",
        "Not covered",
        "List them in the provider's documentation.",
    ),
    ("8. EU declaration of conformity", "Not covered", "A separate document (Article 47)."),
    (
        "9. Post-market monitoring plan",
        "Partly: auditor verify; re-run on new client data",
        "The plan itself (Article 72) is the provider's.",
    ),
)


def documentation_map() -> dict[str, list[dict[str, str]]]:
    """The two checklists as template rows."""
    return {
        "model_card": [{"item": i, "where": w, "note": n} for i, w, n in MODEL_CARD],
        "annex_iv": [{"item": i, "where": w, "note": n} for i, w, n in ANNEX_IV],
    }
