"""--junit: each criterion a JUnit test case (pass, failure with value, interval and bound,
skipped when waived or not judged, error when a blocking one could not be measured), read
back with junitparser and checked for structure with xml.etree."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import junitparser
import pytest
import skops.io as sio

from auditor.cli import main
from auditor.junit import MSG_NOT_JUDGED, junit_xml, write_junit
from tests.api.tiny import tiny_frame, tiny_model, tiny_spec


def _criterion(index, status, *, severity="blocking", waived=False, value=0.5, ci=None, **kw):
    bound_key = kw.pop("bound_key", "at_least")
    return {
        "index": index,
        "criterion": {"metric": "f1", "split": "test", bound_key: 0.8, "severity": severity},
        "description": f"criterion {index}",
        "status": status,
        "severity": severity,
        "value": value,
        "ci": ci,
        "bound": 0.8,
        "margin": None if value is None else value - 0.8,
        "reason": kw.pop("reason", ""),
        "finding_id": None,
        "waiver": kw.pop("waiver", None),
        "waived": waived,
    }


RESULTS = {
    "auditor_version": "0.1.0",
    "spec": {"name": "loan-approval"},
    "spec_file": {"path": "specs/loan.yaml", "sha256": "ab" * 32},
    "model": {"kind": "trained", "fingerprint": "cd" * 32},
    "run": {"started": "2026-12-03T08:00:00+00:00", "wall_seconds": 12.5},
    "verdict": {"status": "NOT READY", "reason": "F1 fails.", "exit_code": 1},
    "criteria": [
        _criterion(0, "pass", value=0.9, ci=[0.85, 0.95]),
        _criterion(1, "fail", value=0.712345, ci=[0.65, 0.77], reason="measured 0.71"),
        _criterion(2, "inconclusive", value=0.81, ci=[0.7, 0.9], bound_key="at_most"),
        _criterion(
            3,
            "fail",
            waived=True,
            waiver={
                "reason": "new data due",
                "approver": "Head of Product",
                "expires": "2027-01-31",
            },
        ),
        _criterion(4, "error", severity="advisory", value=None, reason="group too small"),
        _criterion(5, "error", value=None, reason="no holdout"),
        _criterion(6, "fail", severity="advisory", value=0.7),
    ],
}


@pytest.fixture()
def parsed(tmp_path):
    path = write_junit(RESULTS, tmp_path / "sub" / "junit.xml")
    return path, junitparser.JUnitXml.fromfile(str(path))


def test_junitparser_reads_one_suite_named_after_the_spec(parsed):
    _, xml = parsed
    (suite,) = list(xml)
    assert suite.name == "loan-approval"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 3, 1, 2)
    props = {p.name: p.value for p in suite.properties()}
    assert props["verdict"] == "NOT READY" and props["exit_code"] == "1"
    assert props["spec_sha256"] == "ab" * 32 and props["model_fingerprint"] == "cd" * 32


def test_each_criterion_is_a_case_with_its_outcome(parsed):
    _, xml = parsed
    cases = list(next(iter(xml)))
    assert [c.name for c in cases] == [f"[{i}] criterion {i}" for i in range(7)]
    kinds = [type(c.result[0]).__name__ if c.result else "pass" for c in cases]
    assert kinds == ["pass", "Failure", "Failure", "Skipped", "Skipped", "Error", "Failure"]
    failure = cases[1].result[0]
    assert failure.message == "measured 0.7123 [0.65, 0.77]; bound: at least 0.8 (blocking)"
    assert failure.type == "fail" and failure.text == "measured 0.71"
    assert cases[2].result[0].message.startswith("measured 0.81 [0.7, 0.9]; bound: at most 0.8")
    assert cases[2].result[0].type == "inconclusive"
    assert cases[3].result[0].message == (
        "waived: new data due; approved by Head of Product; until 2027-01-31"
    )
    assert cases[4].result[0].message == MSG_NOT_JUDGED.format(reason="group too small")
    assert cases[6].result[0].message.endswith("(advisory)")


def test_the_document_structure(parsed):
    path, _ = parsed
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "7"
    suite = root.find("testsuite")
    assert suite.get("timestamp") == "2026-12-03T08:00:00+00:00" and suite.get("time") == "12.500"
    assert [p.get("name") for p in suite.find("properties")][:3] == [
        "verdict",
        "verdict_reason",
        "exit_code",
    ]
    assert all(
        case.get("classname") == "loan-approval.acceptance" for case in suite.iter("testcase")
    )
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")


def test_text_from_the_spec_and_data_is_escaped_and_kept_well_formed():
    results = json.loads(json.dumps(RESULTS))
    results["criteria"][0]["description"] = 'F1 <b>&"bold"'
    results["criteria"][1]["reason"] = "group \x00\x1b[31m"  # a column name with controls
    root = ET.fromstring(junit_xml(results))  # parses: well-formed
    cases = root.findall("testsuite/testcase")
    assert cases[0].get("name") == '[0] F1 <b>&"bold"'
    assert cases[1].find("failure").text == "group \ufffd\ufffd[31m"


def test_auditor_run_and_report_write_junit(tmp_path):
    frame = tiny_frame()
    frame.to_csv(tmp_path / "train.csv", index=False)
    sio.dump(tiny_model(frame), tmp_path / "model.skops")
    spec = tiny_spec("train.csv")
    spec["model"] = {"vendor": {"format": "skops", "path": "model.skops"}}
    (tmp_path / "spec.yaml").write_text(json.dumps(spec), encoding="utf-8")
    out, junit = tmp_path / "out", tmp_path / "ci" / "criteria.xml"
    code = main(
        ["run", str(tmp_path / "spec.yaml"), "--out", str(out), "--quiet", "--junit", str(junit)]
    )
    assert code == 1
    (suite,) = list(junitparser.JUnitXml.fromfile(str(junit)))
    assert suite.name == "tiny-api-audit" and (suite.tests, suite.failures) == (3, 2)
    results = json.loads((out / "results.json").read_text())
    fail = results["criteria"][1]
    message = list(suite)[1].result[0].message
    assert f"{fail['value']:.4g}" in message and f"{fail['ci'][0]:.4g}" in message
    again = tmp_path / "again.xml"
    assert (
        main(
            [
                "report",
                str(out / "results.json"),
                "--out",
                str(tmp_path / "r"),
                "--junit",
                str(again),
            ]
        )
        == 0
    )
    assert again.read_bytes() == junit.read_bytes()


def test_a_junit_path_that_is_a_folder_is_refused_before_the_run(tmp_path, capsys):
    code = main(["run", str(tmp_path / "absent.yaml"), "--junit", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path}: --junit must name a file, not a folder"
