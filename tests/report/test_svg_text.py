"""The PDF's chart labels are laid out one Pango line a label (auditor.report.svg_text),
where WeasyPrint lays out each letter, and land where WeasyPrint puts them."""

from __future__ import annotations

import base64
import io
import sys

import pytest
import weasyprint
import weasyprint.svg
import weasyprint.text.line_break as line_break
from pypdf import PdfReader

from auditor.report import svg_text

OWN = sys.modules["weasyprint.svg.text"].text  # WeasyPrint's own handler

LABELS = (
    '<text x="190" y="20" font-size="10px" text-anchor="end">Equal opportunity</text>'
    '<text x="100" y="40" font-size="10px" font-weight="bold" text-anchor="middle">'
    "Centred title</text>"
    '<text x="10" y="60" font-size="10px" font-family="DejaVu Sans">Left AVA</text>'
    '<text transform="translate(20 70) rotate(-90)" font-size="8px">Rotated</text>'
)
PER_LETTER = '<text x="10" y="75" dx="0 2 2" font-size="10px">abc</text>'


def _page(body: str) -> str:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80">{body}</svg>'
    data = base64.b64encode(svg.encode()).decode()
    return (
        "<style>@page { size: 300px 200px; margin: 0 }</style>"
        f'<img style="width: 200px" src="data:image/svg+xml;base64,{data}">'
    )


def _own_handler(monkeypatch) -> None:
    """WeasyPrint's own SVG text handler back in place for this test."""
    for tag, handler in list(weasyprint.svg.TAGS.items()):
        if getattr(handler, "one_line", False):
            monkeypatch.setitem(weasyprint.svg.TAGS, tag, OWN)
    monkeypatch.setattr(weasyprint.svg, "text", OWN)


def _paint(body: str, monkeypatch) -> tuple[int, list[tuple[float, float]], list[float]]:
    """Write the PDF of an SVG ``body``: (Pango lines laid out, where each glyph run
    starts inside the SVG, the anchors' shifts)."""
    lines = []
    real = line_break.split_first_line

    def counting(text, *args, **kwargs):
        lines.append(text)
        return real(text, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(line_break, "split_first_line", counting)
        pdf = weasyprint.HTML(string=_page(body)).write_pdf()
    starts, shifts = [], []

    def visit(op, args, cm, tm):
        if op in (b"Tj", b"TJ"):
            starts.append((round(float(tm[4]), 2), round(float(tm[5]), 2)))
        elif op == b"cm" and [float(a) for a in args[:4]] == [1, 0, 0, 1] and float(args[4]) < 0:
            shifts.append(-float(args[4]))  # a middle or end anchor: the run moved left

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_operand_before=visit)
    return len(lines), starts, shifts


def test_install_is_in_place_for_the_pinned_weasyprint():
    assert weasyprint.__version__.startswith(svg_text.CHECKED), (
        "WeasyPrint changed: check svg_text against weasyprint/svg/text.py, then add it"
    )
    assert svg_text.install() and svg_text.install()
    handler = weasyprint.svg.TAGS["text"]
    assert handler.one_line and weasyprint.svg.text is handler
    assert {weasyprint.svg.TAGS[tag] for tag in ("tspan", "textPath", "a")} == {handler}


def test_an_unchecked_weasyprint_keeps_its_own_handler(monkeypatch):
    _own_handler(monkeypatch)
    monkeypatch.setattr(weasyprint, "__version__", "99.0")
    assert not svg_text.install()
    assert weasyprint.svg.TAGS["text"] is OWN and weasyprint.svg.text is OWN


def test_each_label_is_one_line_where_weasyprint_lays_out_each_letter(monkeypatch):
    svg_text.install()
    ours = _paint(LABELS, monkeypatch)
    _own_handler(monkeypatch)
    own = _paint(LABELS, monkeypatch)
    letters = sum(len(word) for word in ("Equal opportunity", "Centred title", "Left AVA"))
    assert own[0] >= letters + len("Rotated"), "WeasyPrint: a Pango line a letter"
    assert ours[0] == 4, "one line a label"
    assert len(ours[1]) == 4 and len(own[1]) > letters
    # the same place: each label starts where WeasyPrint's first letter does ...
    firsts = [own[1][0], own[1][16], own[1][28], own[1][-7]]  # spaces draw nothing
    assert [v for start in ours[1] for v in start] == [v for start in firsts for v in start]
    # ... and an anchored label moves left by its width, kerned (within 2 %)
    assert len(ours[2]) == len(own[2]) == 2
    assert ours[2] == pytest.approx(own[2], rel=0.02)


def test_a_text_placed_letter_by_letter_is_left_to_weasyprint(monkeypatch):
    svg_text.install()
    ours = _paint(PER_LETTER, monkeypatch)
    _own_handler(monkeypatch)
    own = _paint(PER_LETTER, monkeypatch)
    assert ours == own
    assert len(ours[1]) == 3, "each letter where its dx puts it"
