"""Cross-field rules of a text classifier (``model.architecture: text_classifier``).

A text classifier fine-tunes a pre-trained sentence encoder (``model.encoder``) with a
classification head on one text column of the tabular data; it classifies (binary or
multiclass) and is audited like any classifier. ``model.encoder`` applies to it alone.
"""

from __future__ import annotations

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, spec_rule

TASKS = ("binary", "multiclass")

MSG_TASK = "architecture text_classifier classifies: objective.task must be binary or multiclass"
MSG_NEEDS_ENCODER = (
    "architecture text_classifier fine-tunes a sentence encoder on a text column: set "
    "model.encoder.text_column (and model.encoder.model, all-MiniLM-L6-v2 by default)"
)
MSG_ENCODER_ONLY = "model.encoder applies to architecture text_classifier only"
MSG_NOT_TEXT = "model.encoder.text_column names the target {column!r}"


@spec_rule("text_classifier", applies="any")
def check_text_classifier(ctx: RuleContext) -> list[SpecError]:
    """A text classifier classifies, with an encoder; the encoder needs the classifier."""
    spec = ctx.spec
    arch, encoder = spec.model.architecture, spec.model.encoder
    if arch != "text_classifier":
        return [] if encoder is None else [ctx.error(("model", "encoder"), MSG_ENCODER_ONLY)]
    errors = []
    if ctx.task not in TASKS:
        errors.append(ctx.error(("model", "architecture"), MSG_TASK))
    if encoder is None:
        errors.append(ctx.error(("model", "architecture"), MSG_NEEDS_ENCODER))
    elif encoder.text_column == spec.objective.target:
        errors.append(
            ctx.error(
                ("model", "encoder", "text_column"),
                MSG_NOT_TEXT.format(column=encoder.text_column),
            )
        )
    return errors


@spec_rule("text_classifier_column", needs_data=True)
def check_text_column(ctx: RuleContext) -> list[SpecError]:
    """The text column is a column of the training file (did-you-mean otherwise)."""
    from auditor.spec.data_rules import missing_column

    encoder = ctx.spec.model.encoder
    if ctx.spec.model.architecture != "text_classifier" or encoder is None:
        return []
    columns = ctx.probe.columns("train")
    if columns is None or encoder.text_column in columns:
        return []
    return [
        missing_column(
            ctx,
            ("model", "encoder", "text_column"),
            encoder.text_column,
            "train",
            "train",
            columns,
        )
    ]
