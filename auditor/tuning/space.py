"""A declared search space, as Optuna draws it, and the values a trial trains with.

Each ``tuning.space`` entry becomes one Optuna parameter named by its option's path
(``training.learning_rate``): a float (uniform, log-uniform or stepped), an integer
(stepped, or log-uniform) or a categorical. Optuna's categoricals hold scalars only, so a
choice that is a list (``model.hidden: [64, 32]``) is drawn as its JSON text and turned
back into the list before training. Grid search draws every entry from its finite list of
values (:func:`grid_values`), so a grid point is exactly a combination of them.

An entry with ``when`` is drawn only when the options it names have the values it names,
read from what the trial has drawn so far or, for an option the space does not tune (or
did not draw), the spec's own value.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from auditor.tuning.catalogue import option_kind

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import SpaceEntry

#: Drawn floats are rounded to this many significant digits, so a stepped value is
#: 0.3, not 0.30000000000000004, in the trial and in the resolved spec alike.
FLOAT_DIGITS = 12

_SCALARS = (str, int, float, bool, type(None))


def plain_value(value: Any) -> Any:
    """A choice as plain JSON values (the typed spec's tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): plain_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    return value


def encode(value: Any) -> Any:
    """A value as Optuna may store it: scalars as they are, lists as JSON text."""
    value = plain_value(value)
    return value if isinstance(value, _SCALARS) else json.dumps(value)


def choices_of(entry: SpaceEntry) -> list[Any]:
    """The entry's choices as plain values."""
    return [plain_value(c) for c in entry.choices or ()]


def _tidy(value: float) -> float:
    """``value`` rounded to :data:`FLOAT_DIGITS` significant digits."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = FLOAT_DIGITS - int(math.floor(math.log10(abs(value)))) - 1
    return round(value, digits)


def grid_values(entry: SpaceEntry) -> list[Any]:
    """Every value a grid search gives the entry (choices, or the stepped range)."""
    if entry.choices is not None:
        return choices_of(entry)
    low, high = float(entry.low), float(entry.high)
    integer = option_kind(entry.option) == "integer"
    step = float(entry.step) if entry.step is not None else 1.0
    count = int(math.floor((high - low) / step + 1e-9)) + 1
    values = [low + k * step for k in range(count)]
    return [int(round(v)) for v in values] if integer else [_tidy(v) for v in values]


def grid(entries: tuple[SpaceEntry, ...]) -> dict[str, list[Any]]:
    """Optuna's GridSampler search space: parameter -> its encoded values."""
    return {e.option: [encode(v) for v in grid_values(e)] for e in entries}


def grid_size(entries: tuple[SpaceEntry, ...]) -> int:
    """How many grid points the space has (conditional entries counted in full)."""
    return math.prod(len(grid_values(e)) for e in entries)


def draw(trial: Any, entry: SpaceEntry, *, enumerate_grid: bool) -> Any:
    """One value of the entry from an Optuna trial (decoded, ready to train with)."""
    name = entry.option
    if entry.choices is not None or enumerate_grid:
        options = grid_values(entry)
        encoded = [encode(v) for v in options]
        picked = trial.suggest_categorical(name, encoded)
        return options[encoded.index(picked)]
    if option_kind(name) == "integer":
        step = int(entry.step) if entry.step is not None else 1
        return int(
            trial.suggest_int(name, int(entry.low), int(entry.high), step=step, log=entry.log)
        )
    value = trial.suggest_float(
        name, float(entry.low), float(entry.high), step=entry.step, log=bool(entry.log)
    )
    return _tidy(float(value))


def get_option(values: Mapping[str, Any], option: str) -> Any:
    """The value of a dotted option in a resolved spec document."""
    node: Any = values
    for key in option.split("."):
        node = node[key]
    return plain_value(node)


def set_option(values: dict[str, Any], option: str, value: Any) -> None:
    """Set a dotted option in a resolved spec document, in place."""
    keys = option.split(".")
    node = values
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = copy.deepcopy(plain_value(value))


def is_active(entry: SpaceEntry, current: Mapping[str, Any]) -> bool:
    """Whether the entry's ``when`` holds for the ``current`` option values."""
    for option, wanted in (entry.when or {}).items():
        allowed = wanted if isinstance(wanted, (list, tuple)) else [wanted]
        if plain_value(current[option]) not in [plain_value(a) for a in allowed]:
            return False
    return True


def spec_values(entries: tuple[SpaceEntry, ...], base: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's own configuration over the space: its values of the active entries."""
    return {
        e.option: get_option(base, e.option) for e in entries if is_active(e, _when_values(e, base))
    }


def sample(
    trial: Any, entries: tuple[SpaceEntry, ...], base: Mapping[str, Any], *, enumerate_grid: bool
) -> dict[str, Any]:
    """The values one trial trains with: every active entry drawn, in the space's order."""
    drawn: dict[str, Any] = {}
    for entry in entries:
        if is_active(entry, {**_when_values(entry, base), **drawn}):
            drawn[entry.option] = draw(trial, entry, enumerate_grid=enumerate_grid)
    return drawn


def _when_values(entry: SpaceEntry, base: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's own values of the options the entry's ``when`` names."""
    return {option: get_option(base, option) for option in entry.when or {}}


def applied(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of a resolved spec document with ``values`` (option -> value) set."""
    out = copy.deepcopy(dict(base))
    for option, value in values.items():
        set_option(out, option, value)
    return out


def key(values: Mapping[str, Any]) -> str:
    """A configuration as one text (equal configurations, equal texts)."""
    return json.dumps(plain_value(dict(values)), sort_keys=True)
