"""Training throughput: auditor's engine against a minimal hand-written PyTorch loop.

Same generated data (default 50,000 training rows x 30 features, plus 5,000 validation
rows), same model (the engine's MLP), same optimizer (AdamW), batch size and epochs, in one
process. Prints samples per second for both and their ratio, and the peak memory of the
engine's run against the size of the data plus the model.

Targets: engine >= 0.9x the hand-written loop; peak memory <= 1.5x (data + model).

    .venv/bin/python benchmarks/train_throughput.py                  # CPU
    .venv/bin/python benchmarks/train_throughput.py --device cuda    # a GPU, if present

The engine's wall time includes everything ``train_model`` does: moving the tensors to the
device, building the model, a validation pass after every epoch (for early stopping and the
history) and the per-epoch bookkeeping. The hand-written loop does no validation. Both run
with the same number of CPU threads (the engine's automatic choice, printed).
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_RATIO = 0.9
TARGET_MEMORY = 1.5


def _status_bytes(field: str) -> int:
    """A memory figure from /proc/self/status (Linux), else the process's peak RSS."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover


def rss_bytes() -> int:
    return _status_bytes("VmRSS")


def peak_bytes() -> int:
    """Peak resident memory since the last reset (VmHWM), else since the process started."""
    return _status_bytes("VmHWM")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def make_data(rows: int, features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features), dtype=np.float32)
    w = rng.standard_normal(features).astype(np.float32)
    logit = X @ w / np.sqrt(features) + 0.5 * np.sin(X[:, 0] * 2) * X[:, 1]
    y = (rng.uniform(size=rows) < 1 / (1 + np.exp(-2 * logit))).astype(np.int64)
    return X, y


def make_dataset(X_train, y_train, X_val, y_val):
    import pandas as pd

    from auditor.types import Dataset

    empty = {
        s: pd.DataFrame(index=pd.RangeIndex(len(y)))
        for s, y in (("train", y_train), ("validation", y_val))
    }
    return Dataset(
        task="binary",
        target="y",
        frames=empty,
        X={"train": X_train, "validation": X_val},
        y={"train": y_train, "validation": y_val},
        groups=empty,
        feature_columns=[f"x{i}" for i in range(X_train.shape[1])],
        column_types={f"x{i}": "numeric" for i in range(X_train.shape[1])},
        feature_names=[f"num__x{i}" for i in range(X_train.shape[1])],
        classes=[0, 1],
    )


def make_spec(args):
    from auditor.spec.defaults import apply_defaults
    from auditor.types import Spec

    values = {
        "version": 1,
        "name": "throughput",
        "objective": {"task": "binary", "target": "y"},
        "data": {"train": "unused.csv"},
        "model": {"architecture": "mlp", "hidden": args.hidden},
        "training": {
            "optimizer": "adamw",
            "learning_rate": 1e-3,
            "batch_size": args.batch_size,
            "epochs": args.epochs,
            "device": args.device,
            "precision": args.precision,
            "seed": 0,
            "early_stopping": {"enabled": False},
            "cpu_threads": args.threads,
        },
    }
    return Spec(path=Path(tempfile.gettempdir()) / "throughput.yaml", values=apply_defaults(values))


def hand_written(
    X_train, y_train, *, config, device, epochs, batch_size, seed=0
) -> tuple[float, float]:
    """The minimal loop: tensors on the device, randperm index slices, AdamW.

    Returns wall seconds and this process's CPU seconds.
    """
    import torch
    import torch.nn.functional as F

    from auditor.train.architectures import build_model

    start, cpu = time.perf_counter(), time.process_time()
    torch.manual_seed(seed)
    model = build_model(config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    X = torch.from_numpy(X_train).to(device)
    y = torch.from_numpy(y_train.astype(np.float32)).to(device)
    n = X.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            loss = F.binary_cross_entropy_with_logits(model(X[idx]).squeeze(1), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu


def engine(spec, dataset) -> tuple[float, float, object]:
    import torch

    from auditor.train import train_model

    start, cpu = time.perf_counter(), time.process_time()
    predictor = train_model(spec, dataset)
    if predictor.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, time.process_time() - cpu, predictor


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=50_000, help="training rows (>= 50,000 for the target)"
    )
    parser.add_argument("--validation-rows", type=int, default=5_000)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument(
        "--precision",
        default="fp32",
        help="engine precision: fp32 (as the hand-written loop) or auto (bf16 on CUDA)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: the engine's choice)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each; the best is kept"
    )
    args = parser.parse_args(argv)

    import torch

    from auditor.train.architectures import build_model, count_parameters, model_config
    from auditor.train.device import cpu_threads, resolve_device, torch_threads

    device = resolve_device(args.device)
    spec = make_spec(args)
    # warm up both paths (first-call costs of torch ops and the optimizer) on a small slice
    Xw, yw = make_data(2_000, args.features, seed=1)
    small = make_dataset(Xw[:1500], yw[:1500], Xw[1500:], yw[1500:])
    engine(spec, small)
    config = model_config(spec.model, in_features=args.features, task="binary", n_classes=2)
    params = count_parameters(build_model(config))
    threads = cpu_threads(
        args.threads, device=device, batch_size=args.batch_size, parameters=params
    )
    with torch_threads(threads):
        hand_written(Xw, yw, config=config, device=device, epochs=1, batch_size=args.batch_size)
    del Xw, yw, small
    gc.collect()

    baseline = rss_bytes()
    X, y = make_data(args.rows + args.validation_rows, args.features)
    X_train, y_train = X[: args.rows], y[: args.rows]
    X_val, y_val = X[args.rows :], y[args.rows :]
    dataset = make_dataset(X_train, y_train, X_val, y_val)
    data_bytes = X.nbytes + y.nbytes
    # model memory while training: weights, gradients and AdamW's two moments
    model_bytes = params * 4 * 4

    timed_hand_written = functools.partial(
        hand_written,
        X_train,
        y_train,
        config=config,
        device=device,
        epochs=args.epochs,
        batch_size=args.batch_size,
    )
    engine_times, hand_times, peak_extra, process_peak, engine_extra = [], [], 0, 0, 0
    engine_cpu, hand_cpu = [], []
    predictor = None
    for _ in range(args.repeat):
        gc.collect()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        can_reset = reset_peak()
        before = rss_bytes()
        seconds, cpu_seconds, predictor = engine(spec, dataset)
        engine_times.append(seconds)
        engine_cpu.append(cpu_seconds)
        if device.type == "cuda":
            peak_extra = max(peak_extra, torch.cuda.max_memory_allocated())
        else:
            process_peak = max(process_peak, peak_bytes() - baseline)
            engine_extra = max(
                engine_extra, peak_bytes() - before if can_reset else peak_bytes() - baseline
            )
            peak_extra = data_bytes + engine_extra
        del predictor.model
        with torch_threads(threads):
            seconds, cpu_seconds = timed_hand_written()
        hand_times.append(seconds)
        hand_cpu.append(cpu_seconds)

    default_threads = None
    if device.type == "cpu" and threads is not None and torch.get_num_threads() != threads:
        default_threads = torch.get_num_threads()  # for information: torch's own default
        default_time, _ = timed_hand_written()
    samples = args.rows * args.epochs
    eng, hand = samples / min(engine_times), samples / min(hand_times)
    ratio = eng / hand
    budget = TARGET_MEMORY * (data_bytes + model_bytes)
    where = (
        "peak GPU memory allocated by torch"
        if device.type == "cuda"
        else f"the data's {data_bytes / 2**20:.1f} MiB + the engine's peak RSS growth "
        f"{engine_extra / 2**20:.1f} MiB"
    )
    print(
        f"device: {device} ({predictor.info['device_name']}), "
        f"precision {predictor.info['precision']}, torch {torch.__version__}, "
        f"CPU threads: {threads or torch.get_num_threads()}"
    )
    print(
        f"data: {args.rows:,} train + {args.validation_rows:,} validation rows "
        f"x {args.features} features ({data_bytes / 2**20:.1f} MiB); "
        f"model mlp {args.hidden}: {params:,} parameters; "
        f"batch {args.batch_size}; {args.epochs} epochs; best of {args.repeat}"
    )
    print(
        f"hand-written loop : {hand:12,.0f} samples/s  ({min(hand_times):.3f} s, "
        f"CPU {min(hand_cpu):.3f} s)"
    )
    if default_threads is not None:
        print(
            f"  (for information, the same loop with torch's default {default_threads} threads: "
            f"{samples / default_time:,.0f} samples/s)"
        )
    print(
        f"engine            : {eng:12,.0f} samples/s  ({min(engine_times):.3f} s, "
        f"CPU {min(engine_cpu):.3f} s, incl. validation every epoch)"
    )
    print(
        f"ratio engine/hand : {ratio:.3f}  (target >= {TARGET_RATIO})  -> "
        f"{'MET' if ratio >= TARGET_RATIO else 'NOT MET'}"
    )
    if device.type == "cpu":  # CPU time is steadier than wall time on a shared machine
        print(f"  by CPU time     : {min(hand_cpu) / min(engine_cpu):.3f}")
    print(
        f"peak memory       : {peak_extra / 2**20:.1f} MiB ({where}) vs data + model "
        f"{(data_bytes + model_bytes) / 2**20:.1f} MiB = "
        f"{peak_extra / (data_bytes + model_bytes):.2f}x "
        f"(target <= {TARGET_MEMORY}x) -> {'MET' if peak_extra <= budget else 'NOT MET'}"
    )
    if device.type != "cuda":
        print(
            f"                    (process peak RSS above the pre-data baseline, including the "
            f"benchmark's own data-generation temporaries: {process_peak / 2**20:.1f} MiB)"
        )
    ok = ratio >= TARGET_RATIO and peak_extra <= budget
    print("targets:", "MET" if ok else "NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
