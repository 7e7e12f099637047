"""Cross-field rules of a language-model spec (``objective.task: language_model``).

A language model learns the documents of ``data.corpus`` (deduplicated, then split by
``data.split``); it is a ``transformer_lm`` sized by ``model.transformer`` or a
``pretrained_lm`` read from the local folder ``model.pretrained.path`` and fine-tuned
(fully or with LoRA), trained here (no vendor model or data-parallel launch; a search is
judged by :mod:`auditor.spec.lm_tuning_rules`), and judged by the language-model checks
(:mod:`auditor.checks.lm_fit`). The settings that only a language model reads
(``data.text_processing``, ``model.transformer``, ``model.pretrained``,
``evaluation.extraction``, ``training.warmup_steps`` and ``training.gradient_accumulation``)
are refused for the other objectives.
"""

from __future__ import annotations

import importlib.util

from auditor.data.corpus import CORPUS_SPLITS
from auditor.errors import SpecError
from auditor.spec.rules import RuleContext, _bound_errors, listed, spec_rule
from auditor.spec.suggest import did_you_mean
from auditor.text.catalogue import TEXT_METRICS
from auditor.types import LM_TASKS

#: Checks that compare the checkpoint before fine-tuning with the fine-tuned model.
BASE_CHECKS = ("fine_tuning_gain", "forgetting")
#: What training a language model imports (the text-models extra); LoRA adds peft.
NEEDED_MODULES = ("transformers", "tokenizers", "safetensors")
PEFT = ("peft",)
LM_SPLITS = CORPUS_SPLITS
HELD_OUT_CHECKS = ("perplexity_gap", "corpus_overlap")

MSG_NEEDS_CORPUS = (
    "a language_model objective learns the documents of data.corpus: set data.corpus.path "
    "to a text file (one document a line) or JSON Lines"
)
MSG_NO_TABLES = (
    "a language_model objective learns data.corpus; {field} does not apply (the corpus is "
    "split into train, validation and test documents by data.split)"
)
MSG_NEEDS_EXTRA = (
    "a language_model objective needs {package}, which is not installed: pip install "
    "'auditor[text-models]' (make venv installs it)"
)
MSG_NOT_HERE = "{field} is not available for a language_model objective yet"
MSG_ARCHITECTURE = "a language_model objective trains {expected}, not {name!r}{hint}"
MSG_LM_ONLY = "{field} applies to objective.task: language_model only"
MSG_LM_ARCHITECTURE_ONLY = (
    "architecture {name!r} is a language model; it needs objective.task: language_model"
)
MSG_HEADS = "model.transformer.width ({width}) must be a multiple of heads ({heads})"
MSG_UNPACKED_LENGTH = (
    "without packing each document is one sequence: data.text_processing.max_length "
    "({length}) must be at most model.transformer.context_length - 1 ({limit})"
)
MSG_EXTRACTION_LENGTH = (
    "evaluation.extraction.prefix_tokens + verbatim_tokens ({total}) must fit within "
    "model.transformer.context_length - 1 ({limit})"
)
MSG_STOPPING = (
    "a language model stops early on its validation loss: training.early_stopping.metric "
    "must be loss, got {metric!r}"
)
MSG_CRITERION = (
    "{what} does not apply to a language_model objective; its checks: {names} (or a text "
    "metric of its answers to held-out prompts, evaluation.generations){hint}"
)
MSG_TEMPLATE_JSONL = (
    "a template fills the fields of JSON Lines records: data.corpus needs format jsonl "
    "(or a .jsonl file)"
)
MSG_TEMPLATE_BAD = "the template cannot be filled: {reason}"
MSG_TEMPLATE_EMPTY = (
    "the template names no field: write the record's fields in braces, e.g. "
    "'Instruction: {instruction} Response: {response}'"
)
MSG_NEEDS_CHECKPOINT = (
    "architecture pretrained_lm fine-tunes a local checkpoint: set model.pretrained.path to "
    "its folder"
)
MSG_CHECKPOINT_ONLY = "model.pretrained applies to architecture pretrained_lm only"
MSG_NO_CHECKPOINT = "checkpoint folder not found: {path}"
MSG_CHECKPOINT_FILE = (
    "the checkpoint folder {path} holds no {what} (the folder of a transformers "
    "save_pretrained, weights as safetensors: pickled weights are not read)"
)
MSG_CHECKPOINT_UNREADABLE = "the checkpoint in {path} cannot be read: {reason}"
MSG_CHECKPOINT_EOS = "the checkpoint's tokenizer has no end-of-text token (eos_token)"
MSG_TARGET_MODULE = (
    "target module {name!r} is no module of the checkpoint ({model_type}){hint}; its "
    "linear layers: {names}"
)
MSG_LORA_DEFAULT = (
    "peft has no default target modules for model type {model_type!r}: name them in "
    "model.pretrained.lora.target_modules (its linear layers: {names})"
)
MSG_PATTERN = "pattern {pattern!r} matches no {what}parameter of the checkpoint"
MSG_CONTEXT = (
    "model.transformer.context_length ({length}) exceeds the positions the checkpoint "
    "attends over ({positions})"
)
MSG_RESPONSE_NO_TEMPLATE = (
    "response_field names a field of the template: set data.text_processing.template"
)
MSG_RESPONSE_PACKING = (
    "with a response_field the loss is on each pair's response: set "
    "data.text_processing.packing to false (one pair a sequence)"
)
MSG_BASE_ONLY = (
    "{what} compares the checkpoint before and after fine-tuning: it needs architecture "
    "pretrained_lm"
)
MSG_BASE_OFF = "{check} needs evaluation.base_comparison.enabled: true"
MSG_BASE_GENERAL = (
    "forgetting is measured on a general held-out corpus: set "
    "evaluation.base_comparison.general to its file"
)
MSG_SPLIT = "split {split!r} is not a split of the corpus; use {names}{hint}"
MSG_HELD_OUT = "{check} compares a held-out split with train: use split validation or test"


def _is_lm(ctx: RuleContext) -> bool:
    return ctx.task in LM_TASKS


def _uses_lora(spec) -> bool:
    pretrained = spec.model.pretrained
    return pretrained is not None and pretrained.fine_tune == "lora"


def lm_check_names() -> list[str]:
    """The bounded checks of the language-model objective (criteria may name them)."""
    from auditor.checks import CHECKS

    return [c.name for c in CHECKS.values() if c.bounded and set(c.tasks) & set(LM_TASKS)]


@spec_rule("lm_objective", applies="any")
def check_lm_objective(ctx: RuleContext) -> list[SpecError]:
    """A language model needs a corpus and a transformer_lm; its settings need it."""
    from auditor.spec.schema import load_schema
    from auditor.spec.typed import section
    from auditor.types import LM_ARCHITECTURES

    # the schema's enum is the registry's (make schema): no torch to validate a spec
    ARCHITECTURES = load_schema()["properties"]["model"]["properties"]["architecture"]["enum"]  # noqa: N806

    spec = ctx.spec
    arch = spec.model.architecture
    if not _is_lm(ctx):
        # a resolved spec writes every default: only a setting changed from it is refused
        errors = [
            ctx.error(path, MSG_LM_ONLY.format(field=".".join(path)))
            for path, value in (
                (("data", "text_processing"), spec.data.text_processing),
                (("model", "transformer"), spec.model.transformer),
                (("evaluation", "extraction"), spec.evaluation.extraction),
                (("evaluation", "base_comparison"), spec.evaluation.base_comparison),
                (("evaluation", "generations"), spec.evaluation.generations),
            )
            if value != section(path)
        ]
        errors += [
            ctx.error(path, MSG_LM_ONLY.format(field=".".join(path)))
            for path, changed in (
                (("model", "pretrained"), spec.model.pretrained is not None),
                (("training", "warmup_steps"), spec.training.warmup_steps != 0),
                (("training", "gradient_accumulation"), spec.training.gradient_accumulation != 1),
            )
            if changed
        ]
        if arch in LM_ARCHITECTURES:
            errors.append(
                ctx.error(("model", "architecture"), MSG_LM_ARCHITECTURE_ONLY.format(name=arch))
            )
        return errors
    data = spec.data
    errors = []
    if data.corpus is None:
        errors.append(ctx.error(("objective", "task"), MSG_NEEDS_CORPUS))
    for name in ("train", "holdout", "reference", "text"):
        if getattr(data, name):
            errors.append(ctx.error(("data", name), MSG_NO_TABLES.format(field=f"data.{name}")))
    if data.audit:
        errors.append(ctx.error(("data", "audit"), MSG_NO_TABLES.format(field="data.audit")))
    if arch not in LM_ARCHITECTURES:
        others = [a for a in ARCHITECTURES if a not in LM_ARCHITECTURES]
        hint = did_you_mean(arch, LM_ARCHITECTURES) if arch not in others else ""
        errors.append(
            ctx.error(
                ("model", "architecture"),
                MSG_ARCHITECTURE.format(expected=listed(LM_ARCHITECTURES), name=arch, hint=hint),
            )
        )
    if arch == "pretrained_lm" and spec.model.pretrained is None:
        errors.append(ctx.error(("model", "architecture"), MSG_NEEDS_CHECKPOINT))
    if arch != "pretrained_lm" and spec.model.pretrained is not None:
        errors.append(ctx.error(("model", "pretrained"), MSG_CHECKPOINT_ONLY))
    needed = NEEDED_MODULES + (PEFT if _uses_lora(spec) else ())
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if missing:
        errors.append(ctx.error(("objective", "task"), MSG_NEEDS_EXTRA.format(package=missing[0])))
    for path, present in (
        (("model", "vendor"), spec.model.vendor is not None),
        (("model", "compare"), spec.model.compare != "none"),
        (("training", "train_on"), spec.training.train_on != "train"),
        (("evaluation", "cross_validation"), spec.evaluation.cross_validation is not None),
    ):
        if present:
            errors.append(ctx.error(path, MSG_NOT_HERE.format(field=".".join(path))))
    return errors


@spec_rule("lm_settings", applies="lm")
def check_lm_settings(ctx: RuleContext) -> list[SpecError]:
    """Sizes that must agree: width and heads, lengths and the context, the stopping figure."""
    if not _is_lm(ctx):
        return []
    spec = ctx.spec
    t = spec.model.transformer
    processing = spec.data.text_processing
    errors = []
    if t.width % t.heads:
        errors.append(
            ctx.error(
                ("model", "transformer", "heads"), MSG_HEADS.format(width=t.width, heads=t.heads)
            )
        )
    limit = t.context_length - 1
    if not processing.packing and (processing.max_length is None or processing.max_length > limit):
        errors.append(
            ctx.error(
                ("data", "text_processing", "max_length"),
                MSG_UNPACKED_LENGTH.format(length=processing.max_length, limit=limit),
            )
        )
    errors += _template_errors(ctx)
    ex = spec.evaluation.extraction
    if ex.prefix_tokens + ex.verbatim_tokens > limit:
        errors.append(
            ctx.error(
                ("evaluation", "extraction", "verbatim_tokens"),
                MSG_EXTRACTION_LENGTH.format(
                    total=ex.prefix_tokens + ex.verbatim_tokens, limit=limit
                ),
            )
        )
    metric = spec.training.early_stopping.metric
    if metric != "loss":
        errors.append(
            ctx.error(("training", "early_stopping", "metric"), MSG_STOPPING.format(metric=metric))
        )
    return errors


def _template_errors(ctx: RuleContext) -> list[SpecError]:
    """A template needs JSON Lines records and names at least one of their fields; a
    response field is its last field, on unpacked sequences."""
    from auditor.data.corpus import detect_corpus_format, prompt_template, template_fields

    processing = ctx.spec.data.text_processing
    template, corpus = processing.template, ctx.spec.data.corpus
    response = processing.response_field
    at_response = ("data", "text_processing", "response_field")
    if response is not None and template is None:
        return [ctx.error(at_response, MSG_RESPONSE_NO_TEMPLATE)]
    if response is not None and processing.packing:
        return [ctx.error(("data", "text_processing", "packing"), MSG_RESPONSE_PACKING)]
    if template is None or corpus is None:
        return []
    at = ("data", "text_processing", "template")
    if detect_corpus_format(ctx.resolve_path(corpus.path), corpus.format) != "jsonl":
        return [ctx.error(at, MSG_TEMPLATE_JSONL)]
    try:
        fields = template_fields(template)
    except ValueError as exc:
        return [ctx.error(at, MSG_TEMPLATE_BAD.format(reason=exc))]
    if not fields:
        return [ctx.error(at, MSG_TEMPLATE_EMPTY)]
    if response is not None:
        try:
            prompt_template(template, response)
        except ValueError as exc:
            return [ctx.error(at_response, str(exc))]
    return []


@spec_rule("lm_criteria", applies="lm")
def check_lm_criteria(ctx: RuleContext) -> list[SpecError]:
    """Criteria name a language-model check, on a split of the corpus."""
    if not _is_lm(ctx):
        return []
    names = lm_check_names()
    errors = []
    for i, c in enumerate(ctx.spec.acceptance):
        here = ("acceptance", i)
        if not c.check and c.metric in TEXT_METRICS:
            continue  # a text metric of the answers: auditor.spec.lm_generation_rules
        if not c.check or c.check not in names:
            what = f"check {c.check}" if c.check else f"metric {c.metric}"
            key = "check" if c.check else "metric"
            errors.append(
                ctx.error(
                    here + (key,),
                    MSG_CRITERION.format(
                        what=what,
                        names=listed(names),
                        hint=did_you_mean(str(c.check or c.metric), names),
                    ),
                )
            )
            continue
        errors += _bound_errors(ctx, c, here)
        if c.check in BASE_CHECKS:
            errors += _base_criterion_errors(ctx, c, here)
            if c.check == "forgetting":
                continue
        if c.split not in LM_SPLITS:
            errors.append(
                ctx.error(
                    here + ("split",),
                    MSG_SPLIT.format(
                        split=c.split,
                        names=listed(LM_SPLITS),
                        hint=did_you_mean(c.split, LM_SPLITS),
                    ),
                )
            )
        elif c.check in HELD_OUT_CHECKS and c.split == "train":
            errors.append(ctx.error(here + ("split",), MSG_HELD_OUT.format(check=c.check)))
    return errors


def _base_criterion_errors(ctx: RuleContext, c, here: tuple) -> list[SpecError]:
    """A criterion on the comparison with the checkpoint: what it needs, every lack said."""
    spec, settings = ctx.spec, ctx.spec.evaluation.base_comparison
    errors = []
    if spec.model.architecture != "pretrained_lm":
        errors.append(ctx.error(here + ("check",), MSG_BASE_ONLY.format(what=c.check)))
    elif not settings.enabled:
        at = ("evaluation", "base_comparison", "enabled")
        errors.append(ctx.error(at, MSG_BASE_OFF.format(check=c.check)))
    if c.check == "forgetting" and settings.general is None:
        errors.append(ctx.error(here + ("check",), MSG_BASE_GENERAL))
    if c.check == "fine_tuning_gain" and c.split == "train":
        errors.append(ctx.error(here + ("split",), MSG_HELD_OUT.format(check=c.check)))
    return errors


@spec_rule("lm_base_corpus", needs_data=True, applies="lm")
def check_lm_base_corpus(ctx: RuleContext) -> list[SpecError]:
    """The general held-out corpus of the base comparison is readable and holds documents;
    it applies to a fine-tuned checkpoint only."""
    from auditor.data.corpus import TEXT_COLUMN, detect_corpus_format, read_documents
    from auditor.errors import DataError

    spec = ctx.spec
    general = spec.evaluation.base_comparison.general
    if general is None or not _is_lm(ctx):
        return []
    at = ("evaluation", "base_comparison", "general")
    if spec.model.architecture != "pretrained_lm":
        return [ctx.error(at, MSG_BASE_ONLY.format(what="evaluation.base_comparison.general"))]
    path = ctx.resolve_path(general)
    try:
        read_documents(
            path,
            fmt=detect_corpus_format(path, "auto"),
            field=(spec.data.corpus.field if spec.data.corpus else None) or TEXT_COLUMN,
            encoding=spec.data.encoding,
        )
    except DataError as exc:
        return [ctx.error(at, f"{path.name}: {exc.message}")]
    return []


@spec_rule("lm_corpus_file", needs_data=True, applies="lm")
def check_lm_corpus_file(ctx: RuleContext) -> list[SpecError]:
    """The corpus a language model learns is readable and holds documents (JSON Lines: the
    text field on every line), read as the data stage reads it."""
    from auditor.data.corpus import detect_corpus_format, read_documents
    from auditor.errors import DataError

    corpus, template = ctx.spec.data.corpus, ctx.spec.data.text_processing.template
    if corpus is None or not _is_lm(ctx) or _template_errors(ctx):
        return []
    path = ctx.resolve_path(corpus.path)
    try:
        read_documents(
            path,
            fmt=detect_corpus_format(path, corpus.format),
            field=corpus.field,
            encoding=ctx.spec.data.encoding,
            template=template,
        )
    except DataError as exc:
        at = ("data", "corpus", "path")
        if "text field" in exc.message:
            at = (
                ("data", "text_processing", "template") if template else ("data", "corpus", "field")
            )
        return [ctx.error(at, f"{path.name}: {exc.message}")]
    return []


@spec_rule("lm_checkpoint", needs_data=True, applies="lm")
def check_lm_checkpoint(ctx: RuleContext) -> list[SpecError]:
    """The checkpoint folder holds a config, safetensors weights and a tokenizer with an
    end-of-text token; the LoRA target modules, the freeze and learning-rate patterns name
    modules and parameters it has; the context fits its positions. Read from config.json
    alone (the model built on the meta device): no weights are loaded."""
    spec = ctx.spec
    pretrained = spec.model.pretrained
    if not _is_lm(ctx) or pretrained is None or spec.model.architecture != "pretrained_lm":
        return []
    at = ("model", "pretrained", "path")
    folder = ctx.resolve_path(pretrained.path)
    if not folder.is_dir():
        return [ctx.error(at, MSG_NO_CHECKPOINT.format(path=folder))]
    from auditor.train.lm_pretrained import CONFIG_FILE, WEIGHT_FILES, checkpoint_outline

    for what, names in (("config.json", (CONFIG_FILE,)), ("safetensors weights", WEIGHT_FILES)):
        if not any((folder / n).is_file() for n in names):
            return [ctx.error(at, MSG_CHECKPOINT_FILE.format(path=folder, what=what))]
    try:
        outline = checkpoint_outline(folder)
    except (OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [ctx.error(at, MSG_CHECKPOINT_UNREADABLE.format(path=folder, reason=reason))]
    errors = []
    if not outline["has_eos"]:
        errors.append(ctx.error(at, MSG_CHECKPOINT_EOS))
    length, positions = spec.model.transformer.context_length, outline["positions"]
    if positions and length > positions:
        errors.append(
            ctx.error(
                ("model", "transformer", "context_length"),
                MSG_CONTEXT.format(length=length, positions=positions),
            )
        )
    errors += _lora_target_errors(ctx, outline)
    errors += _pattern_errors(ctx, outline)
    return errors


def _linear_names(outline) -> list[str]:
    """The last parts of the names of the checkpoint's linear layers (LoRA's targets)."""
    import torch

    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:  # pragma: no cover - every transformers this runs on has it
        Conv1D = torch.nn.Linear  # noqa: N806
    names = {
        n.rsplit(".", 1)[-1]
        for n, m in outline["meta_model"].named_modules()
        if n and isinstance(m, torch.nn.Linear | Conv1D)
    }
    return sorted(names)


def _lora_target_errors(ctx: RuleContext, outline) -> list[SpecError]:
    pretrained = ctx.spec.model.pretrained
    if pretrained.fine_tune != "lora":
        return []
    targets = pretrained.lora.target_modules
    linear = _linear_names(outline)
    at = ("model", "pretrained", "lora", "target_modules")
    if targets is None:
        from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

        if outline["model_type"] not in TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING:
            return [
                ctx.error(
                    ("model", "pretrained", "lora"),
                    MSG_LORA_DEFAULT.format(model_type=outline["model_type"], names=listed(linear)),
                )
            ]
        return []
    modules = outline["modules"]
    errors = []
    for i, name in enumerate(targets):
        if not any(m == name or m.endswith("." + name) for m in modules):
            errors.append(
                ctx.error(
                    at + (i,),
                    MSG_TARGET_MODULE.format(
                        name=name,
                        model_type=outline["model_type"],
                        hint=did_you_mean(name, linear),
                        names=listed(linear),
                    ),
                )
            )
    return errors


def _pattern_errors(ctx: RuleContext, outline) -> list[SpecError]:
    """Every freeze pattern matches a parameter; every learning-rate pattern a trainable
    one (LoRA: an adapter's, named as peft names them)."""
    from auditor.train.lm_pretrained import matches

    pretrained = ctx.spec.model.pretrained
    names = outline["parameters"]
    errors = [
        ctx.error(("model", "pretrained", "freeze", i), MSG_PATTERN.format(pattern=p, what=""))
        for i, p in enumerate(pretrained.freeze)
        if not any(matches(n, p) for n in names)
    ]
    if not pretrained.learning_rates:
        return errors
    trainable = [n for n in names if not any(matches(n, p) for p in pretrained.freeze)]
    if pretrained.fine_tune == "lora":
        trainable = _adapter_names(outline, pretrained)
    errors += [
        ctx.error(
            ("model", "pretrained", "learning_rates", i, "parameters"),
            MSG_PATTERN.format(pattern=e.parameters, what="trainable "),
        )
        for i, e in enumerate(pretrained.learning_rates)
        if trainable is not None and not any(matches(n, e.parameters) for n in trainable)
    ]
    return errors


def _adapter_names(outline, pretrained) -> list[str] | None:
    """The names peft gives the adapters' parameters (the adapters put on the meta model);
    None when peft cannot place them (the target-module rule says why)."""
    from auditor.train.lm_pretrained import lora_config, peft_notices

    try:
        from peft import get_peft_model

        with peft_notices():
            model = get_peft_model(outline["meta_model"], lora_config(pretrained))
    except (ValueError, KeyError, TypeError, RuntimeError):
        return None
    return [n for n, p in model.named_parameters() if p.requires_grad]
