"""Safe YAML reading with positions, and YAML writing that reads back identically.

Reading composes the document with PyYAML's safe composer (no Python objects are ever
constructed) and builds plain values itself, recording the 1-based (line, column) of every
key and value by JSON path. It follows the YAML 1.2 core schema: only ``true``/``false``
are booleans (``yes``, ``no``, ``on``, ``off`` stay strings), dates stay strings, ``1e3``
is a number. It refuses duplicate keys, tags beyond the standard ones, files over
``MAX_BYTES``, nesting deeper than ``MAX_DEPTH``, more than ``MAX_VALUES`` values, and
documents whose aliases would expand to more than ``MAX_NODES`` nodes (counted, never
expanded).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from auditor.errors import Location, SpecError

MAX_BYTES = 1 << 20  # 1 MiB
MAX_DEPTH = 64
MAX_NODES = 100_000  # values after expanding aliases (counted, never expanded)
MAX_VALUES = 50_000  # values written in the file; stops a huge file early

MSG_NOT_FOUND = "spec file not found"
MSG_NOT_A_FILE = "spec path is not a file"
MSG_UNREADABLE = "cannot read the spec file: {reason}"
MSG_TOO_BIG = "spec file is too large ({size:,} bytes; the limit is {limit:,})"
MSG_NOT_UTF8 = "spec file is not UTF-8 text (byte 0x{byte:02x} cannot be decoded)"
MSG_EMPTY = "spec file is empty; it must be a mapping starting with 'version: 1'"
MSG_NOT_MAPPING = (
    "the spec must be a mapping of sections (version, name, objective, data, ...), got {kind}"
)
MSG_SYNTAX = "invalid YAML: {problem}"
MSG_TAB = "invalid YAML: a tab character cannot indent or start a value; use spaces"
MSG_DUPLICATE = "duplicate key '{key}' (lines {first} and {second})"
MSG_TAG = "tag '{tag}' is not allowed; only plain YAML values (no tags) are accepted"
MSG_BAD_TAGGED = "value '{value}' is not valid for tag '{tag}'"
MSG_TOO_DEEP = "nesting is too deep (more than {limit} levels)"
MSG_TOO_MANY_NODES = (
    "aliases would expand the document to more than {limit:,} values; refusing to expand it"
)
MSG_TOO_MANY_VALUES = "the spec holds more than {limit:,} values; refusing to read further"
MSG_RECURSIVE = "recursive alias: a value refers to itself"
MSG_BAD_KEY = "keys must be plain text, got {kind}"
MSG_BAD_MERGE = "'<<' merge needs a mapping or a list of mappings"
MSG_MULTI_DOC = "the spec must be a single YAML document"

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = TAG + "map", TAG + "seq", TAG + "merge"
ALLOWED_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, MAP, SEQ})

Positions = dict[tuple, tuple[int, int]]


# --------------------------------------------------------------------------- YAML 1.2 core
# (tag, regex, first characters) in resolution order: int before float.
CORE_RESOLVERS: list[tuple[str, re.Pattern, str]] = [
    (BOOL, re.compile(r"^(?i:true|false)$"), "tTfF"),
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    (INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789"),
    (
        FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    ),
]


class CoreResolver(BaseResolver):
    """YAML 1.2 core schema resolution (no 1.1 booleans, no timestamps, no sexagesimals)."""

    yaml_implicit_resolvers: dict = {}


for _tag, _regexp, _first in CORE_RESOLVERS:
    CoreResolver.add_implicit_resolver(_tag, _regexp, list(_first))
CoreResolver.add_implicit_resolver(NULL, re.compile(r"^$"), [""])
CoreResolver.add_implicit_resolver(MERGE, re.compile(r"^<<$"), ["<"])


class _LimitedComposer(Composer):
    """A composer that stops at ``MAX_DEPTH`` levels of nesting (before Python's own limit)."""

    def __init__(self):
        Composer.__init__(self)
        self._auditor_depth = 0
        self._auditor_nodes = 0

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML's hook
        depth = self._auditor_depth + 1
        if depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Located(MSG_TOO_DEEP.format(limit=MAX_DEPTH), mark.line + 1, mark.column + 1)
        if not self.check_event(AliasEvent):
            # Count nodes as they are composed, so a huge file stops early, not at the end.
            self._auditor_nodes += 1
            if self._auditor_nodes > MAX_VALUES:
                mark = self.peek_event().start_mark
                raise _Located(
                    MSG_TOO_MANY_VALUES.format(limit=MAX_VALUES), mark.line + 1, mark.column + 1
                )
        self._auditor_depth = depth
        try:
            return super().compose_node(parent, index)
        finally:
            self._auditor_depth = depth - 1


class SpecComposer(Reader, Scanner, Parser, _LimitedComposer, CoreResolver):
    """Reader + scanner + parser + composer; never constructs Python objects."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _LimitedComposer.__init__(self)
        CoreResolver.__init__(self)


class _Located(Exception):
    def __init__(self, message: str, line: int | None, column: int | None, path: tuple = ()):
        super().__init__(message)
        self.message, self.line, self.column, self.path = message, line, column, path


# --------------------------------------------------------------------------- result
@dataclass
class Document:
    """Plain values of a YAML document, with where each key and value is."""

    values: Any
    positions: Positions = field(default_factory=dict)  # path -> value (or block key) position
    key_positions: Positions = field(default_factory=dict)  # path -> position of its key


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def read_text(path: Path) -> str:
    """The spec's text, within the size limit, as UTF-8 (a BOM is allowed)."""
    where = Location(file=str(path))
    if not path.exists():
        raise SpecError(MSG_NOT_FOUND, where)
    if not path.is_file():
        raise SpecError(MSG_NOT_A_FILE, where)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SpecError(MSG_TOO_BIG.format(size=size, limit=MAX_BYTES), where)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(MSG_UNREADABLE.format(reason=exc.strerror or exc), where) from None
    if len(raw) > MAX_BYTES:  # grew while reading
        raise SpecError(MSG_TOO_BIG.format(size=len(raw), limit=MAX_BYTES), where)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError(
            MSG_NOT_UTF8.format(byte=raw[exc.start]),
            Location(file=str(path), line=line, column=column),
        ) from None


def parse_yaml(text: str, *, file: str | None = None) -> Document:
    """Parse one YAML document into plain values with positions.

    Raises
    ------
    SpecError
        Syntax errors, tabs, forbidden tags, duplicate keys, limits exceeded; located.
    """
    try:
        composer = SpecComposer(text)
        try:
            root = composer.get_single_node()
        finally:
            composer.dispose()
        if root is None:
            raise _Located(MSG_EMPTY, None, None)
        _check_size(root)
        doc = Document(values=None)
        doc.values = _build(root, (), doc)
        doc.positions.setdefault((), _pos(root))
        return doc
    except _Located as exc:
        raise SpecError(
            exc.message, Location(file=file, line=exc.line, column=exc.column, path=exc.path)
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise SpecError(_yaml_message(exc), _yaml_location(exc, file)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SpecError(
            MSG_SYNTAX.format(
                problem=f"{exc.reason} (character #x{exc.character:04x})"
                if isinstance(exc.character, int)
                else exc.reason
            ),
            Location(file=file, line=line, column=column),
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - other PyYAML errors carry no mark
        raise SpecError(
            MSG_SYNTAX.format(problem=" ".join(str(exc).split())), Location(file=file)
        ) from None
    except RecursionError:
        raise SpecError(MSG_TOO_DEEP.format(limit=MAX_DEPTH), Location(file=file)) from None


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or ""
    if "'\\t'" in problem or "\t" in problem or "tab" in problem:
        return MSG_TAB
    if "single document" in (exc.context or "") or "another document" in problem:
        return MSG_MULTI_DOC
    text = problem
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        text = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
    return MSG_SYNTAX.format(problem=text)


def _yaml_location(exc: yaml.MarkedYAMLError, file: str | None) -> Location:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:  # pragma: no cover
        return Location(file=file)
    return Location(file=file, line=mark.line + 1, column=mark.column + 1)


# --------------------------------------------------------------------------- limits
def _check_size(root: Node) -> None:
    """Count the nodes the document would have with every alias expanded (memoised)."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    active: set[int] = set()

    def visit(node: Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key], depths[key]
        if key in active:
            raise _Located(MSG_RECURSIVE, *_pos(node))
        active.add(key)
        total, deepest = 1, 0
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        for child in children:
            n, d = visit(child)
            total += n
            deepest = max(deepest, d)
            if total > MAX_NODES:
                raise _Located(MSG_TOO_MANY_NODES.format(limit=MAX_NODES), *_pos(node))
        active.discard(key)
        sizes[key], depths[key] = total, deepest + 1
        if deepest + 1 > MAX_DEPTH:
            raise _Located(MSG_TOO_DEEP.format(limit=MAX_DEPTH), *_pos(node))
        return total, deepest + 1

    visit(root)


# --------------------------------------------------------------------------- building
def _build(node: Node, path: tuple, doc: Document) -> Any:
    if node.tag not in ALLOWED_TAGS and node.tag != MERGE:
        raise _Located(MSG_TAG.format(tag=_short_tag(node.tag)), *_pos(node), path)
    if isinstance(node, ScalarNode):
        doc.positions[path] = _pos(node)
        return _scalar(node, path)
    if isinstance(node, SequenceNode):
        if node.tag != SEQ:
            raise _Located(MSG_TAG.format(tag=_short_tag(node.tag)), *_pos(node), path)
        doc.positions.setdefault(path, _pos(node))
        return [_build(item, path + (i,), doc) for i, item in enumerate(node.value)]
    if node.tag != MAP:
        raise _Located(MSG_TAG.format(tag=_short_tag(node.tag)), *_pos(node), path)
    doc.positions.setdefault(path, _pos(node))
    out: dict[str, Any] = {}
    seen: dict[str, int] = {}
    merged: list[Node] = []
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and key_node.tag == MERGE:
            merged.append(value_node)
            continue
        key = _key(key_node, path)
        if key in seen:
            raise _Located(
                MSG_DUPLICATE.format(key=key, first=seen[key], second=_pos(key_node)[0]),
                *_pos(key_node),
                path + (key,),
            )
        seen[key] = _pos(key_node)[0]
        child = path + (key,)
        doc.key_positions[child] = _pos(key_node)
        if not isinstance(value_node, ScalarNode) and not _is_flow(value_node):
            # A block collection starts on the next line; point at its key instead.
            doc.positions[child] = _pos(key_node)
        out[key] = _build(value_node, child, doc)
    for source in merged:
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for mapping in sources:
            if not isinstance(mapping, MappingNode):
                raise _Located(MSG_BAD_MERGE, *_pos(mapping), path)
            shadow = Document(None)
            values = _build(mapping, path, shadow)
            for key, value in values.items():
                if key in out:
                    continue
                out[key] = value
                prefix = path + (key,)
                for table, target in (
                    (shadow.positions, doc.positions),
                    (shadow.key_positions, doc.key_positions),
                ):
                    for p, pos in table.items():
                        if p[: len(prefix)] == prefix:
                            target.setdefault(p, pos)
    return out


def _is_flow(node: Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def _key(node: Node, path: tuple) -> str:
    if node.tag not in ALLOWED_TAGS:
        raise _Located(MSG_TAG.format(tag=_short_tag(node.tag)), *_pos(node), path)
    if not isinstance(node, ScalarNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
        raise _Located(MSG_BAD_KEY.format(kind=kind), *_pos(node), path)
    return node.value  # JSON keys are text: `2019: numeric` names the column "2019"


def _scalar(node: ScalarNode, path: tuple) -> Any:
    tag, text = node.tag, node.value
    if tag in (STR, MERGE):  # '<<' is a merge only as a key
        return text
    try:
        if tag == NULL:
            if not re.match(r"^(?:~|null|Null|NULL|)$", text):
                raise ValueError(text)
            return None
        if tag == BOOL:
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise ValueError(text)
            return lowered == "true"
        if tag == INT:
            return _to_int(text)
        if tag == FLOAT:
            return _to_float(text)
    except ValueError:
        raise _Located(
            MSG_BAD_TAGGED.format(value=text, tag=_short_tag(tag)), *_pos(node), path
        ) from None
    raise _Located(MSG_TAG.format(tag=_short_tag(tag)), *_pos(node), path)  # pragma: no cover


def _to_int(text: str) -> int:
    t = text.strip()
    if t.startswith("0o"):
        return int(t[2:], 8)
    if t.startswith("0x"):
        return int(t[2:], 16)
    if not re.match(r"^[-+]?[0-9]+$", t):
        raise ValueError(text)
    return int(t, 10)


def _to_float(text: str) -> float:
    t = text.strip()
    low = t.lower()
    if low in (".inf", "+.inf"):
        return math.inf
    if low == "-.inf":
        return -math.inf
    if low == ".nan":
        return math.nan
    if not re.match(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", t):
        raise ValueError(text)
    return float(t)


def _short_tag(tag: str | None) -> str:
    if tag and tag.startswith(TAG):
        return "!!" + tag[len(TAG) :]
    return tag or "?"


# --------------------------------------------------------------------------- writing
class _FlowList(list):
    """A list of scalars, written on one line: ``hidden: [64, 32]``."""


class SpecDumper(yaml.SafeDumper):
    """Safe dumper that quotes any string a YAML 1.1 *or* 1.2 reader would misread."""


for _tag, _regexp, _first in CORE_RESOLVERS:
    SpecDumper.add_implicit_resolver(_tag, _regexp, list(_first))


def _represent_flow(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence(SEQ, data, flow_style=True)


SpecDumper.add_representer(_FlowList, _represent_flow)


def _flowify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _flowify(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_flowify(v) for v in value]
        if items and all(not isinstance(v, (dict, list)) for v in items) and len(items) <= 12:
            return _FlowList(items)
        return items
    return value


def dump_yaml(values: Any) -> str:
    """YAML text of plain values; short lists of scalars on one line, keys in given order."""
    return yaml.dump(
        _flowify(values),
        Dumper=SpecDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
        indent=2,
    )


def scalar_text(value: Any) -> str:
    """One scalar as YAML text (quoted when a reader would misread it)."""
    text = yaml.dump(
        value, Dumper=SpecDumper, default_flow_style=True, allow_unicode=True, width=10_000
    )
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    elif text.endswith("..."):
        text = text[:-3].rstrip()
    return text
