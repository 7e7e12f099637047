"""The bundled example generators: seeded, and carrying the effects they claim to plant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from auditor.data import examples
from auditor.spec.typed import section


@pytest.mark.parametrize("name", examples.GENERATORS)
def test_generators_are_deterministic_under_their_seed(name):
    a = examples.generate(name, 500, 3)
    b = examples.generate(name, 500, 3)
    c = examples.generate(name, 500, 4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert len(a) == 500


def test_generators_equal_the_schema_enum():
    from auditor.spec import load_schema

    generate = load_schema()["properties"]["data"]["properties"]["generate"]
    assert tuple(generate["properties"]["example"]["enum"]) == examples.GENERATORS


def test_unknown_generator_names_the_available_ones():
    with pytest.raises(ValueError, match="loan, triage, claims"):
        examples.generate("lone", 10, 0)


def test_loan_labels_carry_the_planted_bias_against_women():
    df = examples.generate("loan", 20000, 1)
    rates = df.groupby("sex")["approved"].mean()
    assert rates["male"] - rates["female"] > 0.15
    # the occupation proxy is strongly tied to sex
    share_female = df.groupby("occupation")["sex"].apply(lambda s: (s == "female").mean())
    assert share_female.max() - share_female.min() > 0.6
    # the useless feature is unrelated to the target
    assert abs(np.corrcoef(df["marketing_score"], df["approved"])[0, 1]) < 0.03
    assert 0.02 < df["employment_years"].isna().mean() < 0.06


def test_triage_undertriages_patients_without_insurance():
    df = examples.generate("triage", 20000, 2)
    high = (df["triage_level"] == "high").groupby(df["insurance"]).mean()
    assert high["none"] < high["private"] - 0.03


def test_claims_are_noisier_in_the_south():
    df = examples.generate("claims", 20000, 3)
    spread = df.groupby("region")["claim_cost"].std()
    assert spread["south"] > 1.3 * spread.drop("south").max()


def test_ensure_example_data_writes_missing_files_once(tmp_path):
    values = section(
        (),
        version=1,
        name="claims",
        objective={"task": "regression", "target": "claim_cost"},
        data={
            "train": "d/train.parquet",
            "holdout": "d/holdout.jsonl",
            "generate": {"example": "claims", "rows": 300, "seed": 5},
        },
    )
    written = examples.ensure_example_data(values, tmp_path)
    assert sorted(p.name for p in written) == ["holdout.jsonl", "train.parquet"]
    assert len(pd.read_parquet(tmp_path / "d/train.parquet")) == 300
    assert len(pd.read_json(tmp_path / "d/holdout.jsonl", lines=True)) == 100
    before = (tmp_path / "d/train.parquet").stat().st_mtime_ns
    assert examples.ensure_example_data(values, tmp_path) == []
    assert (tmp_path / "d/train.parquet").stat().st_mtime_ns == before
    assert not list(tmp_path.glob("d/*.tmp"))
