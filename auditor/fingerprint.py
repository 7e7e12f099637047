"""SHA-256 fingerprints of files, and of data and models held in memory (the Python
API): the one place that hashes what was audited."""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks. Raises OSError as open() does."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of bytes held in memory (weights, embedded attachments)."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- in memory
#: What each in-memory fingerprint hashes (results.json and the report say it).
HASHED_FRAME = "the CSV text DataFrame.to_csv(index=False) writes (UTF-8, '\\n' line ends)"
HASHED_ESTIMATOR = (
    "the estimator's type, its parameters (get_params) and its fitted attributes (names "
    "ending in '_'), arrays as dtype, shape and bytes; nothing pickled"
)
HASHED_TORCH = "the module's type and its state_dict tensors (name, dtype, shape, bytes)"
HASHED_FUNCTION = "the function's qualified name and the SHA-256 of its source (inspect)"
HASHED_FUNCTION_NO_SOURCE = "the function's qualified name (its source is not available)"


class _HashWriter:
    """A text file-like object that hashes what is written to it (UTF-8)."""

    def __init__(self):
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        self.digest.update(text.encode("utf-8"))
        return len(text)


def sha256_frame(frame) -> str:
    """Hex SHA-256 of a DataFrame as the CSV file ``frame.to_csv(path, index=False)`` holds.

    A frame written with ``to_csv(path, index=False)`` therefore has the fingerprint of
    that file, so ``auditor verify --data path`` can match it; the text is hashed as it
    is written, never held whole.
    """
    writer = _HashWriter()
    frame.to_csv(writer, index=False, lineterminator="\n", chunksize=65_536)
    return writer.digest.hexdigest()


def _qualified(obj) -> str:
    t = obj if isinstance(obj, type) else type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def _feed(digest, value, depth: int = 0) -> None:
    """Update ``digest`` with a canonical, pickle-free encoding of ``value``."""
    import numpy as np

    if depth > 32:  # a cycle or an absurd nesting: its type is all that is hashed
        digest.update(b"deep:" + _qualified(value).encode())
        return
    if hasattr(value, "get_params") and not isinstance(value, type):
        digest.update(b"estimator:" + _qualified(value).encode() + b"\0")
        params = value.get_params(deep=False)
        for name in sorted(params):
            digest.update(b"param:" + name.encode() + b"\0")
            _feed(digest, params[name], depth + 1)
        for name in sorted(vars(value)):
            if name.endswith("_") and not name.startswith("_"):
                digest.update(b"fitted:" + name.encode() + b"\0")
                _feed(digest, vars(value)[name], depth + 1)
        return
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            digest.update(b"objects:" + repr(value.shape).encode())
            for item in value.ravel().tolist():
                _feed(digest, item, depth + 1)
            return
        digest.update(f"array:{value.dtype.str}:{value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
        return
    if isinstance(value, dict):
        digest.update(f"dict:{len(value)}:".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key, depth + 1)
            _feed(digest, value[key], depth + 1)
        return
    if isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}:{len(value)}:".encode())
        for item in value:
            _feed(digest, item, depth + 1)
        return
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
        return
    digest.update(b"object:" + _qualified(value).encode() + b";")  # a callable, a RNG...


def sha256_estimator(estimator) -> str:
    """Hex SHA-256 of a fitted scikit-learn estimator (see :data:`HASHED_ESTIMATOR`)."""
    digest = hashlib.sha256()
    _feed(digest, estimator)
    return digest.hexdigest()


def sha256_torch_module(module) -> str:
    """Hex SHA-256 of a torch module's type and weights (see :data:`HASHED_TORCH`)."""
    import torch

    digest = hashlib.sha256(b"torch:" + _qualified(module).encode() + b"\0")
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)}:".encode())
        digest.update(t.view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def sha256_function(function) -> tuple[str, str]:
    """(hex SHA-256, what was hashed) of a predict function: its name and its source."""
    import inspect

    name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"
    digest = hashlib.sha256(b"function:" + name.encode() + b"\0")
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return digest.hexdigest(), HASHED_FUNCTION_NO_SOURCE
    digest.update(hashlib.sha256(source.encode("utf-8")).digest())
    return digest.hexdigest(), HASHED_FUNCTION
