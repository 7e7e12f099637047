"""The training engine: a declared architecture trained with PyTorch on the best device.

The entry point :func:`train_model` is in :mod:`auditor.train.engine`; the other modules
are the registries (architectures, optimizers and schedules), the device and precision
choice, seeding, the loop, the predictor and its artifacts. torch is imported only when
training starts.
"""

from auditor.train.engine import loop_config, train_model

__all__ = ["loop_config", "train_model"]
