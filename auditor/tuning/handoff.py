"""In-memory inputs handed to ``auditor tune``'s worker processes.

``auditor.run(spec, data={"train": frame}, workers=N)`` shares its search with N - 1 worker
processes, as ``auditor tune SPEC --workers N`` does; each is ``auditor tune SPEC --storage
S`` in a process of its own, which cannot see the DataFrames and spec mapping the caller
holds (:mod:`auditor.in_memory`). So the leader writes them into a private folder inside
the run folder before it starts the workers:

    .inputs-XXXX/inputs.json     the validated spec's values (with the API's placeholders),
                                 the spec's path (which anchors relative paths), and each
                                 frame's placeholder -> Parquet file
    .inputs-XXXX/frame-1.parquet one per DataFrame (its index and dtypes kept)

A worker started with ``--inputs FOLDER`` reads them back, holds the frames under the same
placeholders, and validates the spec values as a mapping, so it reads the same rows through
the same code as the leader. Nothing is copied from the leader's fingerprints: each worker
hashes the frames it read again (the CSV text, as for the caller's frames), and the study's
fingerprint (:func:`auditor.tuning.workers.fingerprint`) includes them, so a frame that
Parquet did not carry unchanged would be refused as other training data rather than tuned
on. The folder is removed when the search ends, the run folder keeps nothing of it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import UsageError, one_line
from auditor.in_memory import HeldSpec, InMemory, hold_frame

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

    from auditor.types import Spec

MANIFEST = "inputs.json"
FOLDER_PREFIX = ".inputs-"

MSG_PARQUET = (
    "data[{key!r}] cannot be handed to the tuning workers as Parquet ({why}): give it with "
    "plain column types, or tune with one worker"
)
MSG_MANIFEST = "--inputs {folder}: not a folder of inputs written by auditor tune's leader"


def needs_handoff(inputs: InMemory | None) -> bool:
    """Whether worker processes need the caller's inputs written out (frames, or a spec
    that is a mapping and so has no file to read)."""
    return inputs is not None and bool(inputs.frames or inputs.spec)


@contextmanager
def handed_off(inputs: InMemory, spec: Spec, parent: Path | None) -> Iterator[Path]:
    """The inputs written into a private folder under ``parent`` (the run folder; else the
    system's temporary folder) while the block runs; removed after it."""
    folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
    try:
        write_inputs(inputs, spec, folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_inputs(inputs: InMemory, spec: Spec, folder: Path) -> None:
    """The spec's values and every held frame, into ``folder``."""
    frames = {}
    for i, (placeholder, held) in enumerate(sorted(inputs.frames.items()), start=1):
        file = f"frame-{i}.parquet"
        try:
            held.frame.to_parquet(folder / file)
        except (TypeError, ValueError, ImportError) as exc:  # pyarrow's ArrowTypeError too
            why = one_line(str(exc)) or type(exc).__name__
            raise UsageError(MSG_PARQUET.format(key=held.key, why=why)) from None
        frames[placeholder] = {"key": held.key, "file": file}
    held_spec = None if inputs.spec is None else vars(inputs.spec)
    manifest = {
        "spec_path": str(spec.path),
        "values": spec.values,
        "frames": frames,
        "spec": held_spec,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, default=str), encoding="utf-8")


def read_inputs(folder: str | Path) -> tuple[dict, Path, InMemory]:
    """A worker's view of the leader's inputs: (spec values, spec path, the held inputs)."""
    import pandas as pd

    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        inputs = InMemory()
        for placeholder, entry in manifest["frames"].items():
            frame = pd.read_parquet(folder / entry["file"])
            inputs.frames[placeholder] = hold_frame(entry["key"], frame)  # hashed again
        if manifest.get("spec") is not None:
            inputs.spec = HeldSpec(**manifest["spec"])
        return manifest["values"], Path(manifest["spec_path"]), inputs
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(MSG_MANIFEST.format(folder=folder)) from None


def load_handed(folder: str | Path) -> tuple[Spec, InMemory]:
    """The spec a worker tunes, validated from the leader's values while holding the frames
    (the same rules, the same data checks as the leader's)."""
    from auditor.in_memory import holding
    from auditor.spec.load import parse_spec_mapping

    values, path, inputs = read_inputs(folder)
    with holding(inputs):
        return parse_spec_mapping(values, path=path).spec, inputs
