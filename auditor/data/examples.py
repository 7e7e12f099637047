"""Seeded generators for the bundled example data, produced on first use.

Each generator returns realistic columns with known, planted effects, so that the example
reports have something true to find:

``loan`` (binary, target ``approved``)
    Historical approvals are biased against women: at equal merit their approval log-odds
    are lowered by ``LOAN_BIAS_LOGIT``. ``occupation`` carries no merit but is strongly tied
    to sex, a proxy through which a model learns the bias even when ``sex`` is not a feature.
    ``bank_rating`` is a noisy view of the true risk; ``marketing_score`` is pure noise.
    About 4% of ``employment_years`` and 2% of ``income`` are missing; a few incomes are
    extreme outliers.
``triage`` (multiclass, target ``triage_level``: low / medium / high)
    Patients without insurance are under-triaged by one level 20% of the time.
    ``bed_number`` is useless; ``pain_score`` is noisy.
``claims`` (regression, target ``claim_cost``)
    Claim costs in the ``south`` region carry three times the noise, so errors there are
    larger; ``marketing_score`` is useless.

``support`` (generation: a support assistant's responses, :mod:`auditor.text.example`)
    Hallucinated figures and partner names in a known share of rows, more in the ``app``
    channel; a few refusals and added contact details.

The holdout file (the "client's data") has a fifth of the rows, another seed and a mild
shift (slightly older applicants / patients).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from auditor.spec.typed import SpecValues

#: Seed offset of the development data (``data.reference``): the vendor's own draw, the
#: one the bundled example vendor models are trained on.
DEVELOPMENT_SEED_OFFSET = 1000
LOAN_BIAS_LOGIT = -1.1
TRIAGE_UNDERTRIAGE_RATE = 0.2
CLAIMS_SOUTH_NOISE_FACTOR = 3.0


def generate(name: str, rows: int, seed: int, *, shift: float = 0.0):
    """Return a DataFrame of ``rows`` rows from the named generator."""
    if name not in GENERATORS:
        raise ValueError(f"unknown example generator {name!r}; available: {', '.join(GENERATORS)}")
    import numpy as np

    return _GENERATORS[name](np.random.default_rng(seed), rows, shift)


def _sigmoid(z):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-z))


def _age_band(age):
    import numpy as np

    return np.select([age < 30, age < 45, age < 60], ["18-29", "30-44", "45-59"], "60+")


def _ids(prefix: str, n: int, shift: float) -> list[str]:
    """Row ids; the holdout (shifted) file gets its own prefix so ids never collide."""
    prefix = f"H{prefix}" if shift else prefix
    return [f"{prefix}{100000 + i}" for i in range(n)]


def _dates(rng, n, start="2022-01-01", days=900):
    import numpy as np
    import pandas as pd

    offsets = np.sort(rng.integers(0, days, size=n))
    return (pd.Timestamp(start) + pd.to_timedelta(offsets, unit="D")).strftime("%Y-%m-%d")


def _loan(rng, n, shift):
    """Loan applications whose historical approvals are biased against women."""
    import pandas as pd

    a = _loan_applicants(rng, n, shift)
    merit = _loan_merit(a)
    logit = 0.4 + merit + LOAN_BIAS_LOGIT * (a["sex"] == "female")
    approved = (rng.uniform(size=n) < _sigmoid(logit)).astype(int)
    bank_rating = (merit + rng.normal(0, 1.2, n)).round(3)  # noisy view of merit
    marketing_score = rng.uniform(0, 100, n).round(1)  # useless

    df = pd.DataFrame(
        {
            "applicant_id": _ids("A", n, shift),
            "application_date": _dates(rng, n),
            "branch_id": a["branch_id"],
            "age": a["age"],
            "age_band": _age_band(a["age"]),
            "sex": a["sex"],
            "income": a["income"],
            "employment_years": a["employment_years"],
            "credit_score": a["credit_score"],
            "loan_amount": a["loan_amount"],
            "debt_to_income": a["debt_to_income"],
            "open_accounts": a["open_accounts"],
            "home_ownership": a["home_ownership"],
            "purpose": a["purpose"],
            "occupation": a["occupation"],
            "region": a["region"],
            "bank_rating": bank_rating,
            "marketing_score": marketing_score,
            "approved": approved,
        }
    )
    _spoil_loan(df, rng, n)
    return df


def _loan_applicants(rng, n, shift) -> dict:
    """The applicants' attributes (the random draws in a fixed order)."""
    import numpy as np

    sex = rng.choice(["female", "male"], size=n, p=[0.45, 0.55])
    female = sex == "female"
    age = np.clip(rng.normal(41 + 4 * shift, 12, n), 18, 85).round().astype(int)
    employment_years = np.clip(
        rng.gamma(2.0, 3.0, n) * np.clip((age - 16) / 25, 0.2, 1.5), 0, 45
    ).round(1)
    income = np.exp(rng.normal(10.9 - 0.25 * female + 0.004 * (age - 40), 0.45, n)).round(-2)
    credit_score = (
        np.clip(rng.normal(660 + 1.5 * employment_years, 70, n), 300, 850).round().astype(int)
    )
    loan_amount = np.clip(income * rng.uniform(0.1, 0.9, n), 1000, None).round(-2)
    debt_to_income = np.clip(rng.beta(2, 5, n) * 0.9, 0.01, 0.95).round(3)
    open_accounts = rng.poisson(4, n)
    home = rng.choice(["rent", "own", "mortgage"], size=n, p=[0.4, 0.2, 0.4])
    purpose = rng.choice(
        ["debt_consolidation", "home_improvement", "car", "education", "business"],
        size=n,
        p=[0.35, 0.2, 0.2, 0.1, 0.15],
    )
    region = rng.choice(["north", "south", "east", "west"], size=n)
    branch = rng.integers(1, 61, size=n)
    # occupation is a proxy for sex: it carries no merit of its own
    jobs_f = ["nursing", "teaching", "retail", "administration", "engineering", "construction"]
    p_f, p_m = [0.3, 0.25, 0.2, 0.15, 0.06, 0.04], [0.04, 0.06, 0.15, 0.15, 0.3, 0.3]
    occupation = np.where(
        female, rng.choice(jobs_f, size=n, p=p_f), rng.choice(jobs_f, size=n, p=p_m)
    )
    return {
        "sex": sex,
        "age": age,
        "employment_years": employment_years,
        "income": income,
        "credit_score": credit_score,
        "loan_amount": loan_amount,
        "debt_to_income": debt_to_income,
        "open_accounts": open_accounts,
        "home_ownership": home,
        "purpose": purpose,
        "region": region,
        "branch_id": branch,
        "occupation": occupation,
    }


def _loan_merit(a: dict):
    """What the approval should depend on: credit, income, debt, employment, the loan."""
    import numpy as np

    return (
        0.012 * (a["credit_score"] - 660)
        + 1.1 * (np.log(a["income"]) - 10.8)
        - 4.0 * (a["debt_to_income"] - 0.25)
        + 0.03 * a["employment_years"]
        - 0.6 * (a["loan_amount"] / a["income"] - 0.5)
        + 0.3 * (a["home_ownership"] == "own")
        - 0.25 * (a["purpose"] == "business")
    )


def _spoil_loan(df, rng, n) -> None:
    """Missing employment years and incomes, and a few income outliers, in place."""
    import numpy as np

    df.loc[rng.uniform(size=n) < 0.04, "employment_years"] = np.nan
    df.loc[rng.uniform(size=n) < 0.02, "income"] = np.nan
    outliers = rng.choice(n, size=max(1, n // 500), replace=False)
    df.loc[outliers, "income"] = df.loc[outliers, "income"] * 25


def _triage(rng, n, shift):
    import numpy as np
    import pandas as pd

    age = np.clip(rng.normal(48 + 5 * shift, 20, n), 0, 99).round().astype(int)
    sex = rng.choice(["female", "male"], size=n)
    insurance = rng.choice(["private", "public", "none"], size=n, p=[0.45, 0.4, 0.15])
    heart_rate = rng.normal(85, 15, n).round()
    systolic_bp = rng.normal(128, 20, n).round()
    temperature = rng.normal(37.1, 0.7, n).round(1)
    spo2 = np.clip(rng.normal(96, 3, n), 70, 100).round()
    chronic = rng.poisson(0.8 + age / 60, n)
    arrival = rng.choice(["walk_in", "ambulance", "referral"], size=n, p=[0.6, 0.25, 0.15])
    severity = (
        0.04 * (heart_rate - 85)
        + 0.9 * (temperature - 37.1)
        - 0.35 * (spo2 - 96)
        + 0.02 * np.abs(systolic_bp - 125)
        + 0.35 * chronic
        + 1.0 * (arrival == "ambulance")
        + 0.015 * (age - 48)
        + rng.normal(0, 0.8, n)
    )
    level = np.digitize(severity, [0.3, 1.8])  # 0 low, 1 medium, 2 high
    under = (insurance == "none") & (rng.uniform(size=n) < TRIAGE_UNDERTRIAGE_RATE)
    level = np.where(under, np.maximum(level - 1, 0), level)
    pain_score = np.clip(np.round(2 + 1.5 * level + rng.normal(0, 2.5, n)), 0, 10)
    df = pd.DataFrame(
        {
            "visit_id": _ids("V", n, shift),
            "age": age,
            "age_band": _age_band(np.maximum(age, 18)),
            "sex": sex,
            "insurance": insurance,
            "heart_rate": heart_rate,
            "systolic_bp": systolic_bp,
            "temperature": temperature,
            "oxygen_saturation": spo2,
            "chronic_conditions": chronic,
            "arrival_mode": arrival,
            "pain_score": pain_score,
            "bed_number": rng.integers(1, 400, n),
            "triage_level": np.array(["low", "medium", "high"])[level],
        }
    )
    df.loc[rng.uniform(size=n) < 0.03, "systolic_bp"] = np.nan
    return df


def _claims(rng, n, shift):
    import numpy as np
    import pandas as pd

    age = np.clip(rng.normal(45 + 4 * shift, 14, n), 18, 90).round().astype(int)
    sex = rng.choice(["female", "male"], size=n)
    region = rng.choice(["north", "south", "east", "west"], size=n)
    vehicle_type = rng.choice(
        ["compact", "sedan", "suv", "van", "sports"], size=n, p=[0.3, 0.3, 0.2, 0.12, 0.08]
    )
    vehicle_age = rng.integers(0, 20, n)
    mileage = np.clip(rng.normal(14000, 5000, n), 1000, None).round(-2)
    prior_claims = rng.poisson(0.4, n)
    experience = np.clip(age - 18 - rng.integers(0, 10, n), 0, None)
    tenure = rng.integers(0, 25, n)
    base = (
        900
        + 30 * vehicle_age
        + 0.03 * mileage
        + 450 * prior_claims
        - 12 * experience
        + np.select(
            [vehicle_type == "suv", vehicle_type == "van", vehicle_type == "sports"],
            [250, 300, 900],
            0,
        )
        - 5 * tenure
    )
    noise_sd = np.where(region == "south", 180 * CLAIMS_SOUTH_NOISE_FACTOR, 180)
    cost = np.clip(base + rng.normal(0, noise_sd), 100, None).round(2)
    return pd.DataFrame(
        {
            "claim_id": _ids("C", n, shift),
            "age": age,
            "age_band": _age_band(age),
            "sex": sex,
            "region": region,
            "vehicle_type": vehicle_type,
            "vehicle_age": vehicle_age,
            "annual_mileage": mileage,
            "prior_claims": prior_claims,
            "driver_experience": experience,
            "policy_tenure": tenure,
            "marketing_score": rng.uniform(0, 100, n).round(1),
            "claim_cost": cost,
        }
    )


def _support(rng, n, shift):
    from auditor.text.example import support

    return support(rng, n, shift)


def _support_pairs(rng, n, shift):
    from auditor.text.pairs_example import support_pairs

    return support_pairs(rng, n, shift)


def _support_rated(rng, n, shift):
    from auditor.text.rated_example import support_rated

    return support_rated(rng, n, shift)


_GENERATORS = {
    "loan": _loan,
    "triage": _triage,
    "claims": _claims,
    "support": _support,
    "support_rated": _support_rated,
    "support_pairs": _support_pairs,
}
GENERATORS = tuple(_GENERATORS)  # equal to the schema's data.generate.example enum


def write_table(df, path: Path) -> None:
    """Write a frame atomically in the format given by the file extension."""
    from auditor.atomic import write_atomically

    suffix = path.suffix.lower()
    if suffix == ".parquet":
        write_atomically(path, lambda tmp: df.to_parquet(tmp, index=False))
    elif suffix in (".jsonl", ".ndjson"):
        write_atomically(
            path, lambda tmp: df.to_json(tmp, orient="records", lines=True, double_precision=15)
        )
    else:
        write_atomically(path, lambda tmp: df.to_csv(tmp, index=False))


def example_files(spec: SpecValues) -> list[tuple[str, int, int, float]]:
    """(path, rows, seed, shift) of every data file ``data.generate`` creates.

    The training file is the generator's draw; the holdout, each audit file and the file a
    threshold is chosen on are the client's (a fifth of the rows each, other seeds, the
    generator's mild shift); the development data (``data.reference``) are the vendor's own
    draw, with the seed the example vendor models are trained on (DEVELOPMENT_SEED_OFFSET).
    """
    data, gen = spec.data, spec.data.generate
    client = max(gen.rows // 5, 100)
    files = [(data.train, gen.rows, gen.seed, 0.0), (data.holdout, client, gen.seed + 1, 1.0)]
    files += [(a.path, client, gen.seed + 2 + i, 1.0) for i, a in enumerate(data.audit)]
    chosen = spec.evaluation.threshold.chosen_on
    if chosen is not None and chosen.path:
        files.append((chosen.path, client, gen.seed + 90, 1.0))
    if data.reference is not None:
        files.append((data.reference.path, gen.rows, gen.seed + DEVELOPMENT_SEED_OFFSET, 0.0))
    return [f for f in files if f[0]]


def ensure_example_data(spec: SpecValues, base_dir: Path) -> list[Path]:
    """Create the data files of a spec with ``data.generate`` when they are missing.

    ``spec`` is the typed, resolved spec. Returns the files written (none when they all
    exist); see :func:`example_files` for what each file is. Also asks the vendor example
    to create its model file when the spec audits a bundled vendor model.
    """
    gen = spec.data.generate
    written: list[Path] = []
    if gen is not None:
        for rel, n, s, shift in example_files(spec):
            path = Path(rel) if Path(rel).is_absolute() else base_dir / rel
            if not path.exists():
                write_table(generate(gen.example, n, s, shift=shift), path)
                written.append(path)
    if gen is not None and spec.model.vendor is not None:
        from auditor.vendor_models.example import ensure_vendor_example

        ensure_vendor_example(spec, base_dir)
    return written
