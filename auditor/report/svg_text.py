"""The PDF's chart labels laid out one line a label, not one letter at a time.

WeasyPrint (70) lays out and draws every letter of an SVG ``<text>`` as a Pango line of
its own (``weasyprint/svg/text.py``), so that positions given per letter can apply: lists
in ``x`` and ``y``, ``dx``, ``dy``, ``rotate``, ``letter-spacing``, ``textLength``. A
chart's labels have none of them: matplotlib writes each as one ``<text>`` with one ``x``
and ``y`` (or a ``transform``) and an anchor. Letter by letter, the loan report's six
charts cost about 1,500 Pango layouts, a quarter of its PDF write (a third of the 27-chart
fixture's), and their words lose the font's kerning.

:func:`install` puts one handler in front of WeasyPrint's for the SVG text tags: a
``<text>`` with no per-letter position and no child elements is laid out and drawn as one
line, as the page's HTML text is; every other text node goes to WeasyPrint's own handler.
The anchor (start, middle, end) stays WeasyPrint's: it shifts the label by the bounding
box set here, as it does a row of letters. It is installed only over the WeasyPrint
versions it was checked against (:data:`CHECKED`); under any other, WeasyPrint draws as it
does.
"""

from __future__ import annotations

import sys
from math import inf

#: WeasyPrint versions whose SVG text handler this one mirrors (``weasyprint/svg/text.py``).
CHECKED = ("70.",)

#: Attributes that position letters one by one: such a node is WeasyPrint's to draw.
_PER_LETTER = frozenset(("dx", "dy", "rotate", "textLength", "letter-spacing"))


def install() -> bool:
    """Put the one-line handler in front of WeasyPrint's SVG text handler, once, for the
    whole process (any SVG WeasyPrint draws here afterwards, not only the report's);
    whether it is in place (False under a WeasyPrint version not in :data:`CHECKED`)."""
    import weasyprint
    import weasyprint.svg as svg

    if getattr(svg.text, "one_line", False):
        return True
    if not weasyprint.__version__.startswith(CHECKED):
        return False
    own = svg.text

    def text(drawing, node, font_size):
        if node.tag == "text" and one_line(node):
            draw_line(drawing, node, font_size)
        else:
            own(drawing, node, font_size)

    text.one_line = True
    # WeasyPrint knows a text node by its handler (``TAGS[tag] == text``: the anchor's
    # shift, the bounding box of a text's children), so every tag and that name move.
    for tag, handler in list(svg.TAGS.items()):
        if handler is own:
            svg.TAGS[tag] = text
    svg.text = text
    return True


def one_line(node) -> bool:
    """Whether ``node`` (a WeasyPrint SVG node) is a label with nothing placed per letter:
    some text, at most one ``x`` and one ``y``, no per-letter attribute, no children."""
    from weasyprint.svg.utils import normalize

    attributes = node.attrib
    if not node.text or not _PER_LETTER.isdisjoint(attributes):
        return False
    if any(len(normalize(attributes.get(axis)).split()) > 1 for axis in ("x", "y")):
        return False
    return next(iter(node), None) is None


def draw_line(drawing, node, font_size) -> None:
    """Lay out and draw ``node``'s text as one Pango line: WeasyPrint's own steps for a
    text node (its style, position, baseline alignment, bounding box, drawing), taken once
    for the whole text instead of once a letter."""
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.utils import normalize, size
    from weasyprint.text.line_break import split_first_line

    own = sys.modules["weasyprint.svg.text"]
    style = _style(drawing, node, font_size, own.Style)
    layout, _, _, width, height, baseline = split_first_line(
        node.text, style, drawing.context, inf, 0
    )
    x, y = (
        size(normalize(node.attrib[axis]), font_size, extent) if axis in node.attrib else None
        for axis, extent in (("x", drawing.inner_width), ("y", drawing.inner_height))
    )
    if x:  # as WeasyPrint does: a given (non-zero) position resets the relative shift
        drawing.cursor_d_position[0] = 0
    if y:
        drawing.cursor_d_position[1] = 0
    x = drawing.cursor_position[0] if x is None else x
    y = drawing.cursor_position[1] if y is None else y
    drawing.cursor_position = x + width, y
    x_position = x + drawing.cursor_d_position[0]
    y_position = y + drawing.cursor_d_position[1] + _y_align(node, font_size, height)
    node.text_bounding_box = extend_bounding_box(
        node.text_bounding_box,
        (
            (x_position, y_position - baseline),
            (x_position + width, y_position - baseline + height),
        ),
    )
    drawing.stream.push_state()
    fill, stroke = drawing.set_graphical_state(node, font_size)
    drawing.stream.begin_text()
    layout.reactivate(style)
    drawing.fill_stroke(fill, stroke, text=True)
    box = own.TextBox(layout, style)
    box.baseline = baseline
    matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)
    emojis = draw_first_line(drawing.stream, box, "none", "none", matrix)
    drawing.stream.end_text()
    drawing.stream.pop_state()
    draw_emojis(drawing.stream, style, x, y, emojis)


def _style(drawing, node, font_size, style_type):
    """The text's style, as WeasyPrint's handler builds it from the node's attributes."""
    from weasyprint.css.properties import INITIAL_VALUES

    style = style_type()
    style.update(INITIAL_VALUES)
    style.font_config = drawing.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = node.get("font-style", "normal")
    style["font_size"] = font_size
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    weight = node.get("font-weight", 400)
    named = {"normal": 400, "bold": 700}
    try:
        style["font_weight"] = named[weight] if weight in named else int(weight)
    except ValueError:
        style["font_weight"] = 400
    return style


def _y_align(node, font_size: float, height: float) -> float:
    """The baseline's shift for ``display-anchor`` or ``dominant-baseline`` (WeasyPrint's
    approximation: ascent 0.8 and descent 0.2 of the font size)."""
    ascent, descent = font_size * 0.8, font_size * 0.2
    anchor = node.get("display-anchor")
    baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if anchor == "middle":
        return -height / 2
    if anchor == "top":
        return 0
    if anchor == "bottom":
        return -height
    if baseline in ("central", "middle"):
        return (ascent + descent) / 2 - descent
    if baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        return ascent
    if baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        return -descent
    return 0
