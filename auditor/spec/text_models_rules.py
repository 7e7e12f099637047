"""Rules of a spec's ``text_models``: the local models of the offline text estimators.

A metric that needs a local model (``TextMetric.needs``: a sentence-embedding model for
similarity, relevance, coherence, semantic_similarity and embedding_support; a causal language model
for fluency and perplexity) is computed only when the spec declares that model; a criterion
on one without it, a folder that is missing or holds no model, and an absent
``text-models`` extra are each one located line (exit code 2).
"""

from __future__ import annotations

import importlib.util

from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.text.catalogue import MODEL_EXTRAS, TEXT_METRICS
from auditor.text.local_models import BUNDLED, LocalModelError, check_folder
from auditor.types import LM_TASKS, TEXT_TASKS

#: The objectives whose text the metrics score: generated text, a language model's answers.
SCORED = (*TEXT_TASKS, *LM_TASKS)

MSG_MODELS_NOT_GENERATION = (
    "text_models sets the local models of the generated-text metrics; it needs "
    "objective.task: generation (or language_model, whose answers they score)"
)
MSG_NEEDS_EMBEDDER = (
    "{metric} needs a local sentence-embedding model: declare text_models (text_models: {{}} "
    "uses the bundled all-MiniLM-L6-v2) or a judge that scores it"
)
MSG_NEEDS_LANGUAGE_MODEL = (
    "{metric} needs a local causal language model: set text_models.language_model to its folder"
)
MSG_NO_FOLDER = (
    "{path} is no folder; give {bundled} (bundled) or a local sentence-transformers folder{hint}"
)
MSG_NO_LM_FOLDER = "{path} is no folder; give a local causal language model folder"
MSG_FOLDER_NO_MODEL = "{path} {reason}"
MSG_MODELS_EXTRA = (
    "{what} needs {package}, which is not installed: pip install 'auditor[text-models]' "
    "(make venv installs it)"
)
MSG_BUNDLED_MISSING = (
    "{name} ships in the {package} package, which is not installed: pip install "
    "'auditor[text-models]' (make venv installs it)"
)


def _judged(spec, metric: str) -> bool:
    """Whether a declared judge scores ``metric`` (it then replaces the estimator)."""
    judge = getattr(spec, "judge", None)
    return judge is not None and metric in tuple(getattr(judge, "metrics", ()) or ())


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


@spec_rule("text_models_declared", applies="any")
def check_text_models(ctx: RuleContext) -> list[SpecError]:
    """text_models only for generation; each metric's model declared; the extra installed."""
    spec = ctx.spec
    models = spec.text_models
    if ctx.task not in SCORED:
        return [ctx.error(("text_models",), MSG_MODELS_NOT_GENERATION)] if models else []
    errors: list[SpecError] = []
    if models is not None:
        needed = ["embedder"] + (["language_model"] if models.language_model else [])
        for need in needed:
            module, package = MODEL_EXTRAS[need]
            if _missing(module):
                what = "text_models." + ("embedding" if need == "embedder" else "language_model")
                field = "embedding" if need == "embedder" else "language_model"
                errors.append(
                    ctx.error(
                        ("text_models", field),
                        MSG_MODELS_EXTRA.format(what=what, package=package),
                    )
                )
        if models.embedding in BUNDLED and _missing(BUNDLED[models.embedding][0]):
            errors.append(
                ctx.error(
                    ("text_models", "embedding"),
                    MSG_BUNDLED_MISSING.format(
                        name=models.embedding, package=BUNDLED[models.embedding][1]
                    ),
                )
            )
    for i, c in enumerate(spec.acceptance):
        metric = TEXT_METRICS.get(c.metric or "")
        if metric is None or not metric.needs or _judged(spec, c.metric):
            continue
        here = ("acceptance", i, "metric")
        if "embedder" in metric.needs and models is None:
            errors.append(ctx.error(here, MSG_NEEDS_EMBEDDER.format(metric=c.metric)))
        if "language_model" in metric.needs and (models is None or not models.language_model):
            errors.append(ctx.error(here, MSG_NEEDS_LANGUAGE_MODEL.format(metric=c.metric)))
    return errors


@spec_rule("text_models_folders", needs_data=True, applies=("text", "lm"))
def check_text_model_folders(ctx: RuleContext) -> list[SpecError]:
    """Each declared model folder exists and holds a model of its kind."""
    models = ctx.spec.text_models
    if ctx.task not in SCORED or models is None:
        return []
    errors: list[SpecError] = []
    entries = [("embedding", models.embedding, "sentence-embedding model")]
    if models.language_model:
        entries.append(("language_model", models.language_model, "causal language model"))
    for field, ref, kind in entries:
        if field == "embedding" and ref in BUNDLED:
            continue  # its files are checked against the pins when it is loaded
        folder = ctx.resolve_path(ref)
        here = ("text_models", field)
        if not folder.is_dir():
            message = (
                MSG_NO_FOLDER.format(
                    path=ref, bundled=", ".join(BUNDLED), hint=did_you_mean(ref, list(BUNDLED))
                )
                if field == "embedding"
                else MSG_NO_LM_FOLDER.format(path=ref)
            )
            errors.append(ctx.error(here, message))
            continue
        try:
            check_folder(folder, kind)
        except LocalModelError as exc:
            errors.append(ctx.error(here, MSG_FOLDER_NO_MODEL.format(path=ref, reason=exc.message)))
    return errors
