"""Write the tiny pre-trained checkpoint the bundled fine-tuning specs start from.

specs/models/news-tiny/ is a one-block GPT-2 (width 32, context 64, a 1,000-token
byte-level BPE) trained from scratch with auditor on gensim's Lee background corpus
(specs/news-lm.yaml's corpus, split and seed, a smaller transformer), saved as transformers
saves a model: model.safetensors, config.json, tokenizer files. The same command on any CPU
writes the same weights (seeded, deterministic), so the files in the repository can be
checked with it:

    .venv/bin/python benchmarks/lm_checkpoint.py            # retrain, compare (exit 1: differ)
    .venv/bin/python benchmarks/lm_checkpoint.py --write    # rewrite specs/models/news-tiny

(``make bench`` runs every benchmark: by default this one only compares, never writes.)
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "specs" / "models" / "news-tiny"
#: The files a transformers checkpoint needs (auditor's training.json is left out).
KEEP = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
)


def train(folder: Path) -> None:
    import yaml

    from auditor.data import build_dataset
    from auditor.spec.defaults import apply_defaults
    from auditor.train.lm import train_language_model
    from auditor.types import Spec

    values = yaml.safe_load((REPO / "specs" / "news-lm.yaml").read_text(encoding="utf-8"))
    values["data"]["corpus"]["path"] = str(REPO / "specs" / values["data"]["corpus"]["path"])
    values["data"]["text_processing"]["vocabulary_size"] = 1000
    values["data"]["text_processing"]["max_length"] = 256
    values["model"]["transformer"] = {"layers": 1, "width": 32, "heads": 2, "context_length": 64}
    values["training"].update(epochs=6, device="cpu", learning_rate=0.01)
    spec = Spec(path=REPO / "specs" / "news-lm.yaml", values=apply_defaults(values))
    predictor = train_language_model(spec, build_dataset(spec))
    predictor.save(folder)
    print(
        f"trained: best epoch {predictor.info['best_epoch']}, "
        f"validation loss {predictor.info['best_value']:.3f}"
    )


def digests(folder: Path) -> dict[str, str]:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in KEEP}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the bundled files")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        train(Path(tmp))
        new = digests(Path(tmp))
        if not args.write:
            same = OUT.is_dir() and digests(OUT) == new
            print("the same" if same else "different")
            return 0 if same else 1
        OUT.mkdir(parents=True, exist_ok=True)
        for name in KEEP:
            (OUT / name).write_bytes((Path(tmp) / name).read_bytes())
    print(f"wrote {OUT.relative_to(REPO)}: " + ", ".join(KEEP))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
