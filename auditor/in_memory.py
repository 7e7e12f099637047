"""DataFrames and a model held in memory, given to the Python API in place of files.

``auditor.run(spec, data={"train": frame}, model=estimator)`` writes a placeholder into
the spec where a path would be (``<DataFrame train>``, ``<in-memory model>``) and holds the
objects here, in a context variable, while the spec is validated and the pipeline runs.
The readers that open files ask first: :func:`auditor.data.sources.read_table` and the
data fingerprints (:func:`held_frame`), the vendor model stage (:func:`held_model`). So an
in-memory input goes through exactly the stages a file does; only its fingerprint
differs, and says what was hashed.

Nothing here imports pandas, scikit-learn or torch at import time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FRAME_PLACEHOLDER = "<DataFrame {key}>"
SPEC_PLACEHOLDER = "<spec mapping>"
MODEL_PLACEHOLDER = "<in-memory model>"
#: The vendor format of a model held in memory (``model.vendor.format``).
MEMORY_FORMAT = "python"
#: The format ``results.json`` records for a DataFrame.
FRAME_FORMAT = "dataframe"

ModelKind = Literal["estimator", "torch", "function"]

MSG_MODEL_KIND = (
    "model must be a fitted scikit-learn estimator (with predict), a torch.nn.Module or a "
    "predict function (DataFrame -> scores or labels), got {type}"
)
MSG_MODEL_NOT_HELD = (
    "format 'python' is a model held in memory by the Python API (auditor.run(spec, "
    "model=...)); a spec file names a model file (skops, onnx, torchscript, predictions)"
)
MSG_FRAME_TYPE = "data[{key!r}] must be a pandas DataFrame, got {type}"


@dataclass(frozen=True)
class HeldFrame:
    """A DataFrame given in place of a data file, with its fingerprint."""

    key: str
    frame: Any  # pandas.DataFrame
    sha256: str
    hashed: str


@dataclass(frozen=True)
class HeldModel:
    """A model given in place of a vendor's file, with its fingerprint."""

    kind: ModelKind
    model: Any
    name: str  # its type's (or the function's) qualified name
    sha256: str
    hashed: str


@dataclass(frozen=True)
class HeldSpec:
    """A spec given as a mapping: the name standing for its file, and its fingerprint."""

    name: str
    sha256: str
    hashed: str


@dataclass
class InMemory:
    """Everything held for one validation or run: placeholder -> frame, the model, the spec
    mapping."""

    frames: dict[str, HeldFrame] = field(default_factory=dict)
    model: HeldModel | None = None
    spec: HeldSpec | None = None


_HELD: ContextVar[InMemory | None] = ContextVar("auditor_in_memory", default=None)


@contextlib.contextmanager
def holding(inputs: InMemory | None) -> Iterator[None]:
    """Hold ``inputs`` (None: nothing) for the readers while the block runs."""
    token = _HELD.set(inputs)
    try:
        yield
    finally:
        _HELD.reset(token)


def held_inputs() -> InMemory | None:
    """Everything held now (None: nothing), for a stage that hands it on to other
    processes (:mod:`auditor.tuning.handoff`)."""
    return _HELD.get()


def held_frame(path: str | Path | None) -> HeldFrame | None:
    """The DataFrame held for a (resolved) spec path, or None: read the file."""
    inputs = _HELD.get()
    if inputs is None or path is None:
        return None
    return inputs.frames.get(Path(path).name)


def held_model(path: str | Path | None) -> HeldModel | None:
    """The model held for a (resolved) ``model.vendor.path``, or None: read the file."""
    inputs = _HELD.get()
    if inputs is None or inputs.model is None or path is None:
        return None
    return inputs.model if Path(path).name == MODEL_PLACEHOLDER else None


def held_spec(path: str | Path | None) -> HeldSpec | None:
    """The spec mapping held for ``Spec.path``, or None: the spec is a file."""
    inputs = _HELD.get()
    if inputs is None or inputs.spec is None or path is None:
        return None
    return inputs.spec if Path(path).name == inputs.spec.name else None


def hold_frame(key: str, frame: Any) -> HeldFrame:
    """A DataFrame to hold, fingerprinted (a TypeError unless it is a DataFrame)."""
    import pandas as pd

    from auditor.fingerprint import HASHED_FRAME, sha256_frame

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(MSG_FRAME_TYPE.format(key=key, type=type_name(frame)))
    return HeldFrame(key=key, frame=frame, sha256=sha256_frame(frame), hashed=HASHED_FRAME)


def hold_model(model: Any) -> HeldModel:
    """A model to hold, classified and fingerprinted (a TypeError when it is none of the
    three kinds)."""
    from auditor import fingerprint

    if _is_torch_module(model):
        return HeldModel(
            "torch", model, type_name(model), fingerprint.sha256_torch_module(model),
            fingerprint.HASHED_TORCH,
        )  # fmt: skip
    if callable(getattr(model, "predict", None)) and hasattr(model, "get_params"):
        return HeldModel(
            "estimator", model, type_name(model), fingerprint.sha256_estimator(model),
            fingerprint.HASHED_ESTIMATOR,
        )  # fmt: skip
    if callable(model) and not isinstance(model, type):
        digest, hashed = fingerprint.sha256_function(model)
        name = f"{getattr(model, '__module__', '?')}.{getattr(model, '__qualname__', '?')}"
        return HeldModel("function", model, name, digest, hashed)
    raise TypeError(MSG_MODEL_KIND.format(type=type_name(model)))


def frame_placeholder(key: str) -> str:
    return FRAME_PLACEHOLDER.format(key=key)


def _is_torch_module(obj: Any) -> bool:
    import sys

    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    return torch is not None and isinstance(obj, torch.nn.Module)


def type_name(obj: Any) -> str:
    """An object's type as module.qualified name (how messages and fingerprints name it)."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"
