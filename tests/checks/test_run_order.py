"""run_checks with the domain classifiers still training: the same findings, in order."""

from __future__ import annotations

import dataclasses
import threading

from auditor.checks import CHECKS, run_checks
from auditor.checks.run import READS_DOMAIN
from auditor.evaluate import DomainClassifiers, compare_with_reference
from auditor.results import finding_to_dict
from tests.checks.factory import make_binary_case, make_spec, steady_history


def _case():
    dataset, evaluation = make_binary_case(seed=4, history=steady_history(), holdout=600)
    dataset = dataclasses.replace(
        dataset,
        frames={**dataset.frames, "reference": dataset.frames["train"]},
        split_roles={"reference": "reference"},
        split_labels={"reference": "development data"},
    )
    return dataset, evaluation, make_spec("binary", sensitive=dataset.sensitive)


def test_checks_run_while_the_domain_classifier_trains_and_keep_the_catalogue_order(
    monkeypatch,
):
    dataset, evaluation, spec = _case()
    evaluation.drift = compare_with_reference(spec, dataset, evaluation.notes)  # settled
    settled = [finding_to_dict(f) for f in run_checks(spec, dataset, evaluation)]

    # The same comparison, its domain classifier held on its thread until the last
    # check that does not read it has run.
    import auditor.drift as drift

    release, ran_before = threading.Event(), []
    train = drift.domain_classifier

    def held(*args, **kwargs):
        assert release.wait(timeout=60)
        return train(*args, **kwargs)

    monkeypatch.setattr(drift, "domain_classifier", held)
    beside: list[DomainClassifiers] = []
    evaluation.drift = compare_with_reference(spec, dataset, evaluation.notes, beside=beside)
    evaluation.pending_drift = beside
    assert all(r.domain is None for r in evaluation.drift)
    last_other = [n for n in CHECKS if n not in READS_DOMAIN and "binary" in CHECKS[n].tasks][-1]
    check = CHECKS[last_other]
    monkeypatch.setitem(
        CHECKS,
        last_other,
        dataclasses.replace(
            check, fn=lambda ctx: ran_before.append(True) or release.set() or check.fn(ctx)
        ),
    )
    pending = [finding_to_dict(f) for f in run_checks(spec, dataset, evaluation)]
    assert ran_before == [True]
    assert all(r.domain is not None for r in evaluation.drift)
    assert [f["id"] for f in pending] == [f["id"] for f in settled]
    assert pending == settled
    domain = [f for f in pending if f["check"] == "domain_classifier"]
    assert domain and all(f["status"] != "skipped" for f in domain)
