"""The criteria as JUnit XML (``auditor run --junit FILE``), so any CI shows them as tests.

One ``<testsuite>`` named after the spec, one ``<testcase>`` per acceptance criterion (in
the spec's order), read from the results alone:

- pass: a passing test case;
- fail or inconclusive: ``<failure>`` whose message holds the measured value, its interval
  and the bound (``type`` is the status; the text says blocking or advisory);
- waived: ``<skipped>`` with the waiver;
- could not be measured (status ``error``): ``<skipped>`` ("not judged") when advisory,
  ``<error>`` when blocking, since it blocks the verdict as a failure does.

The suite's properties carry the verdict, its reason and exit code, the spec's and the
model's fingerprints and auditor's version. Written atomically, with the standard library.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from auditor.atomic import write_bytes

#: Characters XML 1.0 cannot hold even escaped (a column name from the data may carry them).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MSG_MEASURED = "measured {value}{ci}; bound: {direction} {bound} ({severity})"
MSG_NOT_JUDGED = "not judged: {reason}"
MSG_WAIVED = "waived: {reason}"


def junit_xml(results: dict[str, Any]) -> bytes:
    """The JUnit XML document (UTF-8 bytes) of a run's criteria."""
    name = str((results.get("spec") or {}).get("name") or "auditor")
    criteria = results.get("criteria") or []
    cases = [_case(name, c) for c in criteria]
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    totals = {k: str(v) for k, v in counts.items()}
    root = ET.Element("testsuites", {"name": "auditor", **totals})
    suite = ET.SubElement(root, "testsuite", {"name": name, **totals, "time": _time(results)})
    started = (results.get("run") or {}).get("started")
    if started:
        suite.set("timestamp", str(started))
    properties = ET.SubElement(suite, "properties")
    for key, value in _properties(results).items():
        ET.SubElement(properties, "property", {"name": key, "value": value})
    suite.extend(cases)
    for element in root.iter():
        element.attrib = {k: _NOT_XML.sub("\ufffd", v) for k, v in element.attrib.items()}
        if element.text:
            element.text = _NOT_XML.sub("\ufffd", element.text)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(results: dict[str, Any], path: Path) -> Path:
    """Write :func:`junit_xml` to ``path`` (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes(path, junit_xml(results))


def _case(suite: str, c: dict[str, Any]) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"{suite}.acceptance",
            "name": f"[{c.get('index', '?')}] {c.get('description', '')}",
            "time": "0",
        },
    )
    status, severity = c.get("status"), c.get("severity", "blocking")
    if status == "pass":
        return case
    if c.get("waived"):
        ET.SubElement(case, "skipped", {"message": MSG_WAIVED.format(reason=_waiver(c))})
    elif status == "error":
        message = MSG_NOT_JUDGED.format(reason=c.get("reason") or "could not be measured")
        tag = "error" if severity == "blocking" else "skipped"
        ET.SubElement(
            case, tag, {"message": message, **({"type": status} if tag == "error" else {})}
        )
    else:
        failure = ET.SubElement(case, "failure", {"message": _measured(c), "type": str(status)})
        failure.text = c.get("reason") or ""
    return case


def _measured(c: dict[str, Any]) -> str:
    criterion = c.get("criterion") or {}
    direction = "at least" if criterion.get("at_least") is not None else "at most"
    ci = c.get("ci")
    shown = f" [{_num(ci[0])}, {_num(ci[1])}]" if ci and None not in ci else ""
    return MSG_MEASURED.format(
        value=_num(c.get("value")),
        ci=shown,
        direction=direction,
        bound=_num(c.get("bound")),
        severity=c.get("severity", "blocking"),
    )


def _waiver(c: dict[str, Any]) -> str:
    waiver = c.get("waiver") or {}
    words = [str(waiver["reason"])] if waiver.get("reason") else []
    if waiver.get("approver"):
        words.append(f"approved by {waiver['approver']}")
    if waiver.get("expires"):
        words.append(f"until {waiver['expires']}")
    return "; ".join(words) or "by the spec"


def _properties(results: dict[str, Any]) -> dict[str, str]:
    verdict = results.get("verdict") or {}
    model = results.get("model") or {}
    spec_file = results.get("spec_file") or {}
    values = {
        "verdict": verdict.get("status"),
        "verdict_reason": verdict.get("reason"),
        "exit_code": verdict.get("exit_code"),
        "spec_file": spec_file.get("path"),
        "spec_sha256": spec_file.get("sha256"),
        "model_kind": model.get("kind"),
        "model_fingerprint": model.get("fingerprint"),
        "auditor_version": results.get("auditor_version"),
    }
    return {k: str(v) for k, v in values.items() if v is not None}


def _time(results: dict[str, Any]) -> str:
    seconds = (results.get("run") or {}).get("wall_seconds")
    return f"{float(seconds):.3f}" if seconds is not None else "0"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
