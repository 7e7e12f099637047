"""An LLM judge, checked: repeated scores, agreement between repeats, agreement with people.

:func:`judge_rows` asks the judge (:class:`auditor.text.endpoint.ChatClient`) to score each
row on each metric's rubric (:mod:`auditor.text.rubrics`) ``repeats`` times at the spec's
temperature (0 by default), the seed moved by one per repeat (an endpoint that honours
seeds then samples each repeat afresh; one that does not at temperature 0 repeats itself,
which the agreement shows). A row's score is the median of its parsed repeats. Requests are
sent row by row (every metric and repeat of a row before the next row), so a budget that
runs out leaves whole rows unjudged; rows past ``budget.rows`` are a seeded sample's
remainder and are never sent.

The judge is then checked:

- :func:`repeat_agreement`: the share of rows whose repeats agree exactly and within one
  point, and Krippendorff's alpha at the interval level over the repeats (repeats as
  coders; rows with fewer than two parsed repeats add nothing to alpha);
- :func:`human_agreement`: where people rated some rows, the judge's row score against
  theirs: quadratic-weighted Cohen's kappa on the 1-5 labels (the row score rounded half
  up; :func:`sklearn.metrics.cohen_kappa_score` with ``weights="quadratic"`` and the five
  labels) and Spearman's rank correlation (:func:`scipy.stats.spearmanr`), each with a
  bootstrap interval over the rated rows from the same Poisson resample weights as every
  other figure (weighted confusion matrices and weighted mid-ranks: no loop over calls);
- :func:`judge_pairs`: a pairwise comparison of the response with a second one asked in
  both orders: the position consistency (share of rows whose two answers pick the same
  response), the share of answers picking the first shown, and the response's win rate
  (a win 1, a tie 0.5, per order, averaged) with intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from auditor.metrics.bootstrap import percentile_interval, resample_apply
from auditor.text.endpoint import Budget, ChatClient, Reply
from auditor.text.rubrics import HIGH, LOW, PAIRWISE, RUBRICS, parse_score, parse_winner

LABELS = np.arange(LOW, HIGH + 1)
#: Which measure of agreement between repeats is reported.
ALPHA_LEVEL = "interval"


@dataclass
class MetricJudgement:
    """One metric's judgement of a split's rows.

    Attributes
    ----------
    scores : ndarray of shape (rows, repeats)
        Parsed scores; NaN for a parse failure, a failed request or a row not judged.
    reasons : list of str
        Each row's first parsed explanation ("" when none).
    parse_failures : int
        Replies that did not parse (each is a NaN in ``scores``).
    failed_requests : int
        Requests that failed after their retries.
    unjudged : int
        Rows with no reply at all because of the budget (rows or tokens).
    """

    metric: str
    scores: np.ndarray
    reasons: list[str]
    parse_failures: int
    fallback_parses: int
    failed_requests: int
    unjudged: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_sha256: str
    rubric_version: str
    judge_model: str

    @property
    def row_scores(self) -> np.ndarray:
        """Each row's median parsed repeat (NaN when none parsed)."""
        out = np.full(self.scores.shape[0], np.nan)
        ok = np.isfinite(self.scores).any(axis=1)
        out[ok] = np.nanmedian(self.scores[ok], axis=1)
        return out

    @property
    def judged(self) -> int:
        """Rows with a score."""
        return int(np.isfinite(self.row_scores).sum())

    @property
    def tokens(self) -> int:
        """Prompt and completion tokens spent on the metric."""
        return self.prompt_tokens + self.completion_tokens

    def summary(self) -> dict:
        """What the results record (JSON-able): counts, tokens, seconds, prompt hash, model."""
        return {
            "metric": self.metric,
            "rows": int(self.scores.shape[0]),
            "repeats": int(self.scores.shape[1]),
            "judged": self.judged,
            "unjudged": self.unjudged,
            "parse_failures": self.parse_failures,
            "fallback_parses": self.fallback_parses,
            "failed_requests": self.failed_requests,
            "replies": int(self.scores.size - self._unsent),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.tokens,
            "seconds": round(self.seconds, 3),
            "prompt_sha256": self.prompt_sha256,
            "rubric_version": self.rubric_version,
            "judge_model": self.judge_model,
        }

    _unsent: int = 0


def _sample(n: int, limit: int | None, seed: int) -> np.ndarray:
    """The rows judged: all, or a seeded sample of ``limit`` of them, in file order."""
    if limit is None or limit >= n:
        return np.arange(n)
    rng = np.random.default_rng([int(seed), 40_961])
    return np.sort(rng.choice(n, size=int(limit), replace=False))


def judge_rows(
    client: ChatClient,
    rows: Mapping[str, Sequence[str]],
    metrics: Sequence[str],
    *,
    repeats: int = 3,
    temperature: float = 0.0,
    max_tokens: int = 200,
    seed: int = 0,
    budget: Budget | None = None,
) -> dict[str, MetricJudgement]:
    """Judge every row on each metric ``repeats`` times.

    Parameters
    ----------
    client : ChatClient
        The judge's endpoint.
    rows : mapping
        Role (``question``, ``context``, ``response``, ``reference``) -> one text per row.
    metrics : sequence of str
        Names in :data:`~auditor.text.rubrics.RUBRICS`; each needs its rubric's inputs.
    repeats, temperature, max_tokens, seed
        Decoding: repeat ``r`` is sent with seed ``seed + r``.
    budget : Budget, optional
        Rows (a seeded sample is judged) and tokens (checked before each request).

    Returns
    -------
    dict
        metric -> :class:`MetricJudgement`.
    """
    budget = budget or Budget()
    n = len(rows["response"])
    chosen = _sample(n, budget.rows, seed)
    jobs, where = [], []
    for i in chosen:
        for metric in metrics:
            rubric = RUBRICS[metric]
            row = {r: rows[r][i] for r in rubric.roles if r in rows}
            messages = rubric.messages(row)
            for r in range(int(repeats)):
                jobs.append(
                    {
                        "messages": messages,
                        "temperature": temperature,
                        "max_tokens": max_tokens,
                        "seed": int(seed) + r,
                    }
                )
                where.append((metric, int(i), r))
    replies = client.complete_many(jobs, budget=budget)
    return {
        m: _collect(m, n, int(repeats), where, replies, client.model, len(chosen)) for m in metrics
    }


def _collect(metric, n, repeats, where, replies: list[Reply], model, chosen) -> MetricJudgement:
    scores = np.full((n, repeats), np.nan)
    reasons = [""] * n
    sent = np.zeros(n, dtype=bool)
    counts = dict.fromkeys(("failures", "fallback", "failed", "prompt", "completion", "skipped"), 0)
    seconds = 0.0
    for (m, i, r), reply in zip(where, replies, strict=True):
        if m != metric:
            continue
        if reply.skipped:
            counts["skipped"] += 1
            continue
        sent[i] = True
        counts["prompt"] += reply.prompt_tokens
        counts["completion"] += reply.completion_tokens
        seconds += reply.seconds
        if reply.text is None:
            counts["failed"] += 1
            continue
        parsed = parse_score(reply.text)
        if parsed.score is None:
            counts["failures"] += 1
            continue
        counts["fallback"] += parsed.how == "fallback"
        scores[i, r] = parsed.score
        if not reasons[i]:
            reasons[i] = parsed.reason
    rubric = RUBRICS[metric]
    out = MetricJudgement(
        metric=metric,
        scores=scores,
        reasons=reasons,
        parse_failures=counts["failures"],
        fallback_parses=counts["fallback"],
        failed_requests=counts["failed"],
        unjudged=int(n - sent.sum()),
        prompt_tokens=counts["prompt"],
        completion_tokens=counts["completion"],
        seconds=seconds,
        prompt_sha256=rubric.sha256,
        rubric_version=rubric.version,
        judge_model=model,
    )
    out._unsent = (n - chosen) * repeats + counts["skipped"]
    return out


# ---------------------------------------------------------------------- repeats
def krippendorff_alpha(scores: np.ndarray, level: str = ALPHA_LEVEL) -> float:
    """Krippendorff's alpha of ``scores`` (units x coders, NaN: missing).

    ``level``: ``interval`` (squared difference) or ``nominal``. NaN when fewer than two
    pairable values or no expected disagreement (every value alike).
    """
    x = np.asarray(scores, dtype=np.float64)
    m = np.isfinite(x).sum(axis=1)
    x = x[m >= 2]
    if x.size == 0:
        return float("nan")
    values = np.unique(x[np.isfinite(x)])
    index = {v: k for k, v in enumerate(values)}
    k = len(values)
    coincidence = np.zeros((k, k))
    for unit in x:
        present = unit[np.isfinite(unit)]
        counts = np.bincount([index[v] for v in present], minlength=k).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)
        coincidence += pairs / (len(present) - 1)
    n_c = coincidence.sum(axis=1)
    total = n_c.sum()
    if level == "interval":
        delta = (values[:, None] - values[None, :]) ** 2
    elif level == "nominal":
        delta = (values[:, None] != values[None, :]).astype(float)
    else:  # pragma: no cover - the two levels above are the module's
        raise ValueError(f"unknown level {level!r}")
    observed = (coincidence * delta).sum() / total
    expected = (np.outer(n_c, n_c) * delta).sum() / (total * (total - 1))
    return float("nan") if expected == 0 else float(1.0 - observed / expected)


def repeat_agreement(scores: np.ndarray) -> dict:
    """How far a metric's repeats agree, over rows with at least two parsed repeats.

    Returns ``rows`` (such rows), ``exact`` (share whose repeats are all equal),
    ``within_one`` (share whose repeats span at most one point), ``alpha`` (Krippendorff's
    alpha, interval level) and ``alpha_level``.
    """
    x = np.asarray(scores, dtype=np.float64)
    usable = np.isfinite(x).sum(axis=1) >= 2
    x = x[usable]
    if not len(x):
        return {
            "rows": 0,
            "exact": None,
            "within_one": None,
            "alpha": None,
            "alpha_level": ALPHA_LEVEL,
        }
    spread = np.nanmax(x, axis=1) - np.nanmin(x, axis=1)
    alpha = krippendorff_alpha(x)
    return {
        "rows": int(len(x)),
        "exact": float((spread == 0).mean()),
        "within_one": float((spread <= 1).mean()),
        "alpha": None if not np.isfinite(alpha) else alpha,
        "alpha_level": ALPHA_LEVEL,
    }


# ---------------------------------------------------------------------- people
def to_labels(row_scores: np.ndarray) -> np.ndarray:
    """Row scores (medians, possibly x.5) as 1-5 labels, rounded half up."""
    return np.clip(np.floor(np.asarray(row_scores, dtype=np.float64) + 0.5), LOW, HIGH)


def weighted_kappa(a: np.ndarray, b: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Quadratic-weighted Cohen's kappa of labels ``a`` and ``b`` under each row of ``weights``.

    ``weights`` (B, n) are case weights (a bootstrap's counts); the labels are the five
    of the 1-5 scale, weighted by the squared distance of their positions, as
    :func:`sklearn.metrics.cohen_kappa_score` with ``weights="quadratic"`` and
    ``labels=[1, 2, 3, 4, 5]``.
    """
    ia = np.searchsorted(LABELS, np.asarray(a)).astype(int)
    ib = np.searchsorted(LABELS, np.asarray(b)).astype(int)
    k = len(LABELS)
    cell = ia * k + ib
    onehot = np.zeros((len(cell), k * k))
    onehot[np.arange(len(cell)), cell] = 1.0
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    confusion = (w @ onehot).reshape(-1, k, k)
    total = confusion.sum(axis=(1, 2))
    rows, cols = confusion.sum(axis=2), confusion.sum(axis=1)
    expected = rows[:, :, None] * cols[:, None, :] / np.maximum(total, 1e-12)[:, None, None]
    grid = np.arange(k)
    penalty = (grid[:, None] - grid[None, :]) ** 2
    num = (penalty * confusion).sum(axis=(1, 2))
    den = (penalty * expected).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 1.0 - num / den, np.nan)


def _midranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each row's mid-rank in the sample that repeats row ``i`` ``w[b, i]`` times."""
    values, inverse = np.unique(x, return_inverse=True)
    onehot = np.zeros((len(x), len(values)))
    onehot[np.arange(len(x)), inverse] = 1.0
    counts = w @ onehot  # (B, distinct values)
    below = np.cumsum(counts, axis=1) - counts
    mid = below + (counts + 1.0) / 2.0
    return mid[:, inverse]


def weighted_spearman(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Spearman's correlation of ``x`` and ``y`` in the samples the weights (B, n) describe.

    Equal to :func:`scipy.stats.spearmanr` on the sample with row ``i`` repeated
    ``weights[b, i]`` times (ties get mid-ranks).
    """
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    rx, ry = _midranks(np.asarray(x, float), w), _midranks(np.asarray(y, float), w)
    total = np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    mx = (w * rx).sum(axis=1, keepdims=True) / total
    my = (w * ry).sum(axis=1, keepdims=True) / total
    dx, dy = rx - mx, ry - my
    cov = (w * dx * dy).sum(axis=1)
    var = np.sqrt((w * dx * dx).sum(axis=1) * (w * dy * dy).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / var, np.nan)


def human_agreement(
    judge: np.ndarray,
    human: np.ndarray,
    *,
    resamples: int,
    seed: int,
    confidence: float,
) -> dict:
    """The judge's agreement with people on the rows both scored.

    Returns ``rated`` (such rows), ``kappa`` and ``kappa_ci`` (quadratic-weighted Cohen's
    kappa), ``spearman`` and ``spearman_ci``; None for a figure that cannot be computed
    (fewer than two rows, or one side constant).
    """
    from scipy.stats import spearmanr
    from sklearn.metrics import cohen_kappa_score

    j = np.asarray(judge, dtype=np.float64)
    h = np.asarray(human, dtype=np.float64)
    both = np.isfinite(j) & np.isfinite(h)
    j, h = j[both], h[both]
    out = {"rated": int(both.sum()), "kappa": None, "kappa_ci": None}
    out.update({"spearman": None, "spearman_ci": None})
    if len(j) < 2:
        return out
    a, b = to_labels(j), to_labels(h)
    if len(np.unique(np.concatenate([a, b]))) > 1:
        kappa = cohen_kappa_score(a, b, weights="quadratic", labels=LABELS)
        out["kappa"] = None if not np.isfinite(kappa) else float(kappa)
    if np.ptp(j) > 0 and np.ptp(h) > 0:
        out["spearman"] = float(spearmanr(j, h).statistic)
    if resamples:

        def figures(w):
            return {"kappa": weighted_kappa(a, b, w), "spearman": weighted_spearman(j, h, w)}

        reps = resample_apply(len(j), figures, resamples=int(resamples), seed=int(seed))
        for name in ("kappa", "spearman"):
            if out[name] is not None:
                ci = percentile_interval(reps[name], confidence)
                out[f"{name}_ci"] = None if ci is None else list(ci)
    return out


# ---------------------------------------------------------------------- pairwise
@dataclass
class PairwiseJudgement:
    """A pairwise comparison of the response with a second one, asked in both orders.

    ``first`` holds the answers with the audited response shown first (A), ``second`` with
    it shown second; each "A", "B", "tie" or None (not parsed, failed or not sent).
    """

    first: list[str | None]
    second: list[str | None]
    parse_failures: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    prompt_sha256: str = field(default_factory=lambda: PAIRWISE.sha256)

    def outcomes(self) -> np.ndarray:
        """Per row, the audited response's result (win 1, tie 0.5, loss 0) averaged over
        the orders that parsed; NaN when neither did."""
        win = {"A": 1.0, "B": 0.0, "tie": 0.5}
        out = np.full(len(self.first), np.nan)
        for i, (x, y) in enumerate(zip(self.first, self.second, strict=True)):
            got = [win[x]] if x else []
            got += [1.0 - win[y]] if y else []
            if got:
                out[i] = float(np.mean(got))
        return out

    def consistent(self) -> np.ndarray:
        """Per row with both orders parsed, 1 when they pick the same response (or both tie)."""
        flip = {"A": "B", "B": "A", "tie": "tie"}
        out = np.full(len(self.first), np.nan)
        for i, (x, y) in enumerate(zip(self.first, self.second, strict=True)):
            if x and y:
                out[i] = float(flip[y] == x)
        return out

    def first_shown(self) -> np.ndarray:
        """Per parsed answer that is not a tie, 1 when it picks the response shown first."""
        answers = [a for a in [*self.first, *self.second] if a in ("A", "B")]
        return np.array([a == "A" for a in answers], dtype=float)


def judge_pairs(
    client: ChatClient,
    questions: Sequence[str],
    responses: Sequence[str],
    others: Sequence[str],
    contexts: Sequence[str] | None = None,
    *,
    max_tokens: int = 200,
    temperature: float = 0.0,
    seed: int = 0,
    budget: Budget | None = None,
) -> PairwiseJudgement:
    """Ask which of ``responses[i]`` and ``others[i]`` answers better, in both orders."""
    jobs = []
    for i, question in enumerate(questions):
        context = contexts[i] if contexts is not None else None
        for a, b in ((responses[i], others[i]), (others[i], responses[i])):
            jobs.append(
                {
                    "messages": PAIRWISE.messages(question, a, b, context),
                    "temperature": temperature,
                    "max_tokens": max_tokens,
                    "seed": int(seed),
                }
            )
    replies = client.complete_many(jobs, budget=budget)
    answers = [parse_winner(r.text) if r.text is not None else None for r in replies]
    failures = sum(1 for r, a in zip(replies, answers, strict=True) if r.text and a is None)
    return PairwiseJudgement(
        first=answers[0::2],
        second=answers[1::2],
        parse_failures=failures,
        prompt_tokens=sum(r.prompt_tokens for r in replies),
        completion_tokens=sum(r.completion_tokens for r in replies),
        seconds=sum(r.seconds for r in replies),
    )


# ---------------------------------------------------------------------- the evaluate stage
def judge_client(spec) -> ChatClient:
    """The spec's judge endpoint as a client (url from ``url_env`` when set; key from env)."""
    from auditor.text.endpoint import resolve_key, resolve_url

    j = spec.judge
    return ChatClient(
        resolve_url(j.url, j.url_env, field="judge", what="judge"),
        j.model,
        api_key=resolve_key(j.api_key_env, field="judge.api_key_env"),
        api_key_env=j.api_key_env,
        timeout_s=float(j.timeout_s),
        retries=int(j.retries),
        concurrency=int(j.concurrency),
        what="judge",
    )


def _ratings(frame, column: str) -> np.ndarray:
    """People's 1-5 ratings from a column (blank or not a number: not rated)."""
    import pandas as pd

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, copy=True)
    values[(values < LOW) | (values > HIGH)] = np.nan
    return values


def judge_splits(spec, dataset, evaluation) -> None:
    """Judge every audit split; store what the checks read in ``evaluation.text[split]``.

    ``evaluation.text[split]["judge"]`` holds ``metrics`` (metric ->
    :class:`MetricJudgement`), ``agreement`` (metric -> repeat agreement), ``people``
    (metric -> :func:`human_agreement` and whether the judge counts as calibrated),
    ``pairwise`` (a :class:`PairwiseJudgement` or None), ``budget`` and ``seconds``; the
    evaluation's notes record the judge's identity, prompt hashes, tokens and seconds.
    """
    import time

    from auditor.splits import bootstrap_seed
    from auditor.text.rubrics import prompt_hashes

    j, text, ev = spec.judge, spec.data.text, spec.evaluation
    ratings = dict(text.ratings or {})
    summary = {"model": j.model, "repeats": int(j.repeats), "temperature": float(j.temperature)}
    summary["max_tokens"] = int(j.max_tokens)
    summary["metrics"] = list(j.metrics)
    summary["prompt_sha256"] = prompt_hashes([*j.metrics, *(["pairwise"] if text.compare else [])])
    summary["splits"] = {}
    with judge_client(spec) as client:
        summary["url"] = client.url
        for split in dataset.splits:
            frame = dataset.frames[split]
            rows = {r: frame[c].tolist() for r, c in text.named().items()}
            budget = Budget(rows=j.budget.rows, tokens=j.budget.tokens)
            start = time.perf_counter()
            seed = bootstrap_seed(ev.seed, split, 90_000)
            judged = judge_rows(
                client,
                rows,
                list(j.metrics),
                repeats=int(j.repeats),
                temperature=float(j.temperature),
                max_tokens=int(j.max_tokens),
                seed=seed,
                budget=budget,
            )
            pairwise = None
            if text.compare:  # the rows the judge scored (budget.rows: the same sample)
                picked = _sample(len(frame), j.budget.rows, seed)
                others = frame[text.compare].fillna("").astype(str).tolist()
                contexts = rows.get("context")
                pairwise = judge_pairs(
                    client,
                    [rows["question"][i] for i in picked],
                    [rows["response"][i] for i in picked],
                    [others[i] for i in picked],
                    None if contexts is None else [contexts[i] for i in picked],
                    max_tokens=int(j.max_tokens),
                    temperature=float(j.temperature),
                    seed=seed,
                    budget=budget,
                )
            seconds = time.perf_counter() - start
            people = {}
            for k, (metric, column) in enumerate(ratings.items()):
                got = human_agreement(
                    judged[metric].row_scores,
                    _ratings(frame, column),
                    resamples=int(ev.bootstrap),
                    seed=bootstrap_seed(ev.seed, split, 91_000 + k),
                    confidence=float(ev.confidence),
                )
                people[metric] = {**got, **calibration(got, j.min_kappa, int(ev.min_group_size))}
            evaluation.text.setdefault(split, {})["judge"] = {
                "metrics": judged,
                "agreement": {m: repeat_agreement(x.scores) for m, x in judged.items()},
                "people": people,
                "pairwise": pairwise,
                "budget": budget.as_dict(),
                "seconds": seconds,
            }
            summary["splits"][split] = {
                "seconds": round(seconds, 3),
                "budget": budget.as_dict(),
                "metrics": {m: x.summary() for m, x in judged.items()},
            }
    summary["tokens"] = client.usage.prompt_tokens + client.usage.completion_tokens
    summary["requests"] = client.usage.requests
    summary["retries"] = client.usage.retries
    summary["seconds"] = round(sum(s["seconds"] for s in summary["splits"].values()), 3)
    evaluation.notes["judge"] = summary


MSG_TOO_FEW_RATED = (
    "only {rated} rows were rated by people and judged (evaluation.min_group_size is {needed})"
)
MSG_LOW_KAPPA = (
    "the judge's agreement with people is kappa {kappa:.2f} (interval {low:.2f} to "
    "{high:.2f}), not clearly at least judge.min_kappa {bound:.2f}: the interval's lower "
    "bound is below it"
)
MSG_NO_KAPPA = "the judge's agreement with people could not be measured (too little variety)"
MSG_NO_KAPPA_INTERVAL = (
    "the judge's agreement with people is kappa {kappa:.2f}, but without an interval "
    "(evaluation.bootstrap is 0) it cannot be shown to be at least judge.min_kappa {bound:.2f}"
)


def calibration(people: dict | None, min_kappa: float, min_rows: int) -> dict:
    """``calibrated`` (bool) and ``why`` not: on at least ``min_rows`` rated rows, the
    weighted kappa's interval lies at or above ``min_kappa`` (its lower bound decides, as a
    criterion with ``require: confidence`` is decided, so a judge that agrees by luck on a
    few rows does not count)."""
    if not people:
        return {"calibrated": False, "why": "no rows were rated by people"}
    if people["rated"] < min_rows:
        return {
            "calibrated": False,
            "why": MSG_TOO_FEW_RATED.format(rated=people["rated"], needed=min_rows),
        }
    if people["kappa"] is None:
        return {"calibrated": False, "why": MSG_NO_KAPPA}
    ci = people.get("kappa_ci")
    if not ci:
        why = MSG_NO_KAPPA_INTERVAL.format(kappa=people["kappa"], bound=min_kappa)
        return {"calibrated": False, "why": why}
    if ci[0] < min_kappa:
        why = MSG_LOW_KAPPA.format(kappa=people["kappa"], low=ci[0], high=ci[1], bound=min_kappa)
        return {"calibrated": False, "why": why}
    return {"calibrated": True, "why": None}
