"""The configuration's text (JSON or YAML) as plain data, within bounds, and never ambiguous.

The text is refused before it is parsed when it is larger than `MAX_BYTES`, and while it is parsed when it nests
collections deeper than `MAX_DEPTH` or, YAML aliases expanded, holds more than `MAX_NODES` values: no configuration
can exhaust a unit's memory, stack or CPU (a 346-byte alias bomb used to expand to gigabytes). A key that appears
twice in one mapping is an error naming both lines: a parser would silently keep one of the two, and the one
dropped could be a `deny`. Every message quotes values through `quoted`, which is bounded.
"""

from __future__ import annotations

import json
import re
import reprlib
from functools import cache
from typing import TYPE_CHECKING, Any

from shared.bounded_json import TooDeepError, loads
from shared.errors import ConfigurationError
from shared.slack.mrkdwn import text as escaped

if TYPE_CHECKING:
    from yaml import Node, SafeLoader

MAX_BYTES = 1024 * 1024
"""The largest configuration text, in UTF-8 bytes (SSM holds 8 KB; a local file may be larger, up to this)."""
MAX_DEPTH = 32
"""How deep lists and mappings may nest (a rule's `arguments` are 4 deep)."""
MAX_NODES = 100_000
"""The most values (each list, mapping, key and scalar counts one) a YAML document may hold, aliases expanded."""
MAX_NUMBER = 100
"""The longest number a YAML scalar may spell (PyYAML turns `1:2:3:…` into an integer in quadratic time)."""
QUOTED = 80
"""The most characters of a value any message quotes."""

_REPR = reprlib.Repr(maxlevel=2, maxtuple=4, maxlist=4, maxdict=4, maxset=4, maxstring=QUOTED, maxother=QUOTED)


def quoted(value: object) -> str:
    """`repr(value)` for a message, at most `QUOTED` characters however large the value (reprlib never builds the
    whole repr of a large list or string)."""
    try:
        shown = _REPR.repr(value)
    except ValueError:  # an integer longer than Python converts to text
        shown = f"<{type(value).__name__} too long to show>"
    return shown if len(shown) <= QUOTED else shown[: QUOTED - 1] + "…"


def parse_document(text: str, origin: str) -> Any:
    """The text's data; `ConfigurationError` (starting with `origin`) if it is too large, too deep, not JSON or YAML,
    or has a duplicate key. JSON when it starts with `{` or `[`, else YAML."""
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _error(origin, f"larger than {MAX_BYTES} bytes (1 MiB): slashops does not read it")
    if text.lstrip().startswith(("{", "[")):
        return _json(text, origin)
    return _yaml(text, origin)


class _Refused(Exception):
    """A bound or a duplicate key, found while parsing; `parse_document` prefixes the origin."""


def _error(origin: str, problem: str) -> ConfigurationError:
    return ConfigurationError(escaped(f"{origin}: {problem}"))


def _too_deep() -> _Refused:
    return _Refused(f"nested more than {MAX_DEPTH} deep (lists and mappings within each other)")


def _duplicate(key: object, first: tuple[int, int], second: tuple[int, int]) -> _Refused:
    """`first` and `second` are (line, column), 1-based."""
    where = (
        f"line {first[0]} (columns {first[1]} and {second[1]})"
        if first[0] == second[0]
        else f"lines {first[0]} and {second[0]}"
    )
    return _Refused(f"key {quoted(key)} appears twice in one mapping, on {where}: keep one")


# JSON


def _json(text: str, origin: str) -> Any:
    try:
        return loads(text, max_depth=MAX_DEPTH, object_pairs_hook=_unique_pairs)
    except TooDeepError as error:
        raise _error(origin, _too_deep().args[0]) from error
    except _DuplicateKey as error:
        raise _error(origin, _json_duplicate(text, error.key).args[0]) from error
    except (ValueError, RecursionError) as error:  # JSONDecodeError; an integer longer than Python converts
        raise _error(origin, f"not valid JSON or YAML ({_first_line(error)})") from error


class _DuplicateKey(Exception):
    """Raised by `_unique_pairs` inside `json.loads`; `_json_duplicate` then finds the two lines."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return mapping


# A string, with the colon that makes it a key; a bracket; or a newline (to count lines).
_JSON_TOKENS = re.compile(r'("(?:[^"\\\n]|\\.)*"?)(\s*:)?|([\[\]{}])|(\n)', re.DOTALL)


def _json_duplicate(text: str, key: str) -> _Refused:
    """Where `key` appears twice in one object of the (valid) JSON `text`."""
    objects: list[dict[str, tuple[int, int]] | None] = []  # the open arrays (None) and objects (key: where)
    line, line_start = 1, 0
    for match in _JSON_TOKENS.finditer(text):
        string, colon, bracket, newline = match.groups()
        if bracket in ("{", "["):
            objects.append({} if bracket == "{" else None)
        elif bracket and objects:
            objects.pop()
        elif colon and objects and objects[-1] is not None and json.loads(string) == key:
            where = (line, match.start() - line_start + 1)
            if key in objects[-1]:
                return _duplicate(key, objects[-1][key], where)
            objects[-1][key] = where
        if newline or (colon and "\n" in colon):  # a newline alone, or between a key and its colon
            line, line_start = line + match.group(0).count("\n"), match.start() + match.group(0).rindex("\n") + 1
    return _Refused(f"key {quoted(key)} appears twice in one mapping: keep one")


# YAML


def _yaml(text: str, origin: str) -> Any:
    import yaml  # here, not at import: PyYAML is a tenth of a cold start, and a JSON configuration never needs it

    loader = _bounded_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _Measure(loader).visit(node, level=0)
        return loader.construct_document(node)
    except _Refused as error:
        raise _error(origin, str(error)) from error
    except RecursionError as error:
        raise _error(origin, _too_deep().args[0]) from error
    except (yaml.YAMLError, ValueError, TypeError) as error:  # TypeError: `!!binary` on a non-string, and the like
        raise _error(origin, f"not valid JSON or YAML ({_where(error)}{_first_line(error)})") from error
    finally:
        loader.dispose()


@cache
def _bounded_loader() -> type[SafeLoader]:
    """PyYAML's safe loader, refusing to compose more than `MAX_NODES` nodes or nest deeper than `MAX_DEPTH`, and
    to construct a number longer than `MAX_NUMBER` characters. Built on the first YAML text (PyYAML loads then)."""
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.composed = 0
            self.level = 0

        def compose_node(self, parent: Node | None, index: int) -> Node | None:
            self.composed += 1
            if self.composed > MAX_NODES:
                raise _too_many()
            self.level += 1
            try:
                if self.level > MAX_DEPTH + 1:  # + 1: a scalar inside the deepest collection
                    raise _too_deep()
                return super().compose_node(parent, index)
            finally:
                self.level -= 1

    def number(construct: Any) -> Any:
        def bounded(loader: SafeLoader, node: Node) -> Any:
            if isinstance(node.value, str) and len(node.value) > MAX_NUMBER:
                line = node.start_mark.line + 1
                raise _Refused(f"line {line}: a number longer than {MAX_NUMBER} characters ({quoted(node.value)})")
            return construct(loader, node)

        return bounded

    for tag in ("int", "float"):
        name = f"tag:yaml.org,2002:{tag}"
        BoundedLoader.add_constructor(name, number(yaml.SafeLoader.yaml_constructors[name]))
    return BoundedLoader


def _too_many() -> _Refused:
    return _Refused(f"holds more than {MAX_NODES} values (YAML aliases expanded): slashops does not read it")


class _Measure:
    """One walk of the composed node graph, each node once (memoized), before anything is constructed: the size
    and depth aliases would expand to, a node that contains itself, and a key that appears twice in one mapping."""

    def __init__(self, loader: SafeLoader) -> None:
        self._loader = loader
        self._measured: dict[int, tuple[int, int]] = {}  # id(node): (values, depth)
        self._open: set[int] = set()

    def visit(self, node: Node, *, level: int) -> tuple[int, int]:
        """(values, depth) of `node` expanded; `_Refused` beyond the bounds."""
        known = self._measured.get(id(node))
        if known is not None:
            if level + known[1] > MAX_DEPTH:  # an alias of a deep list or mapping, deeper still where it is used
                raise _too_deep()
            return known
        children = self._children(node)
        if children is None:
            return 1, 0
        if id(node) in self._open:
            raise _Refused(f"{_at(node)}: an alias names a list or mapping that contains it")
        if level >= MAX_DEPTH:
            raise _too_deep()
        self._open.add(id(node))
        values, depth = 1, 0
        for child in children:
            child_values, child_depth = self.visit(child, level=level + 1)
            values, depth = values + child_values, max(depth, child_depth)
            if values > MAX_NODES:
                raise _too_many()
        self._open.discard(id(node))
        self._measured[id(node)] = (values, depth + 1)
        return values, depth + 1

    def _children(self, node: Node) -> list[Node] | None:
        import yaml

        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.MappingNode):
            self._check_keys(node)
            return [part for pair in node.value for part in pair]
        return None

    def _check_keys(self, node: Node) -> None:
        """Scalar keys as constructed (`effect` and `"effect"` are one key); merges (`<<`) may override keys."""
        import yaml

        seen: dict[object, Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self._loader.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable: the constructor says so when it gets there
                continue
            if first is not key_node:
                raise _duplicate(key, _line_column(first), _line_column(key_node))


def _line_column(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _at(node: Node) -> str:
    return f"line {node.start_mark.line + 1}"


def _where(error: BaseException) -> str:
    """ "line N, column M: " where PyYAML says the problem is (its `problem_mark`), else nothing."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line, column = getattr(mark, "line", None), getattr(mark, "column", None)
    if not isinstance(line, int) or not isinstance(column, int):
        return ""
    return f"line {line + 1}, column {column + 1}: "


def _first_line(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return first if len(first) <= 2 * QUOTED else first[: 2 * QUOTED - 1] + "…"
