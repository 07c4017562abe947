"""YAML with line numbers, and typed conversion of YAML values into attrs classes.

Used by :mod:`tgstats.config`.  Reading composes PyYAML's node tree with the
*safe* loader (never ``yaml.load``) so that every mapping remembers the line of
each key: an operator's mistake can then be reported as ``file:line: key:
expected X, found Y``.  Conversion is driven by the attrs classes' resolved
type annotations, so a plugin's ``Config`` needs no schema besides its fields.

Conversion does not stop at the first mistake: every mapping, list and attrs
class converts all of its entries, collecting their errors in a
:class:`Problems`, and raises them together (one ConfigError, or a
ConfigErrors for several), so an operator fixes a file in one round.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import pathlib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tgstats.errors import ConfigError, ConfigErrors

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "Problems",
    "Where",
    "YamlList",
    "YamlMap",
    "build_attrs",
    "check_unknown_keys",
    "convert",
    "convert_field",
    "describe_type",
    "describe_value",
    "did_you_mean",
    "instantiate",
    "key_where",
    "read_yaml",
    "read_yaml_mapping",
    "read_yaml_value",
    "resolved_fields",
]


class YamlMap(dict[str, Any]):
    """A YAML mapping that remembers its file, its own line and each key's line."""

    def __init__(self, path: Path | None = None, line: int | None = None) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.key_lines: dict[str, int | None] = {}

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key, self.line)


class YamlList(list[Any]):
    """A YAML sequence that remembers its file, its line and each item's line."""

    def __init__(self, path: Path | None = None, line: int | None = None) -> None:
        super().__init__()
        self.path = path
        self.line = line
        self.item_lines: list[int] = []


@attrs.frozen
class Where:
    """Where a value being converted came from: for error messages."""

    path: Path | None
    line: int | None
    key: str

    def child(self, key: str | int, line: int | None) -> Where:
        sub = f"{self.key}[{key}]" if isinstance(key, int) else _join(self.key, key)
        return Where(self.path, line if line is not None else self.line, sub)

    def error(self, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, line=self.line, key=self.key or None)


class Problems:
    """The ConfigErrors found so far in one pass; raised together at the end."""

    def __init__(self) -> None:
        self.found: list[ConfigError] = []

    def add(self, error: ConfigError) -> None:
        self.found.extend(error.problems)

    @contextlib.contextmanager
    def collect(self) -> Iterator[None]:
        """Run the block; a ConfigError it raises is recorded, not propagated."""
        try:
            yield
        except ConfigError as error:
            self.add(error)

    def raise_if_any(self, file_order: Sequence[Path] = ()) -> None:
        """Raise the one problem as itself, several as a ConfigErrors (whose
        problems list the files of ``file_order`` first)."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise ConfigErrors(self.found, file_order=file_order)


def key_where(data: Mapping[str, Any], key: str, where: Where) -> Where:
    """``where.child(key)`` on the key's own line when ``data`` remembers it (a
    YamlMap), else on ``where``'s line."""
    return where.child(key, data.line_of(key) if isinstance(data, YamlMap) else None)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


# --------------------------------------------------------------------------- reading


# A config file is a few kilobytes; these bounds make a hostile one cheap to refuse.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases and nesting past MAX_DEPTH.

    The safe loader still expands aliases: a "billion laughs" file of 371
    bytes becomes gigabytes once its nodes are converted.  Configs never need
    them, so the first anchor or alias is an error at its line.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("YAML anchors and aliases (&name, *name) are not allowed", event)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, message: str, event: yaml.Event) -> None:
        super().__init__(message)
        self.line = event.start_mark.line + 1 if event.start_mark is not None else None


def _check_file(path: Path, within: Path | None) -> None:
    """Refuse a symlink that leaves ``within`` and a file past MAX_FILE_BYTES."""
    if within is not None and path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(within.resolve()):
            # Never echo the target's contents: it may be any file the bot can read.
            raise ConfigError(
                f"expected a config file inside {within}, found a symlink to a file outside it",
                path=path,
            )
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ConfigError(f"cannot read config file: {error.strerror}", path=path) from None
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"expected a config file of at most {MAX_FILE_BYTES // 1024} KiB, found {size:,} bytes",
            path=path,
        )


def read_yaml(path: Path, problems: Problems | None = None, *, within: Path | None = None) -> Any:
    """Parse ``path`` with the safe loader; mappings/lists become YamlMap/YamlList.

    Raises ConfigError for an unreadable file, a YAML syntax error (with its
    line), an anchor or alias, nesting past MAX_DEPTH, a file over
    MAX_FILE_BYTES, or (with ``within``) a symlink to a file outside that
    folder.  Duplicate and non-string keys (every one of them) are raised too,
    unless ``problems`` is given: then they are added to it and the data is
    returned (the later of two duplicates wins), so the caller can go on to
    report the values' problems in the same pass.
    """
    _check_file(path, within)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
        text = raw.decode("utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file: {error.strerror}", path=path) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"expected UTF-8 text, found a byte it cannot be at offset {error.start:,}", path=path
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            f"expected a config file of at most {MAX_FILE_BYTES // 1024} KiB", path=path
        )
    try:
        # The reader checks every character up front (NUL is refused here).
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        raise ConfigError(
            f"invalid YAML: character U+{error.character:04X} at offset {error.position:,} "
            "is not allowed in YAML",
            path=path,
        ) from None
    own = Problems() if problems is None else problems
    try:
        node = loader.get_single_node()
        data = None if node is None else _build(node, loader, path, set(), own)
    except _Refused as refused:
        raise ConfigError(f"invalid YAML: {refused}", path=path, line=refused.line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or "invalid YAML"
        context = f" ({error.context})" if error.context else ""
        raise ConfigError(f"invalid YAML: {problem}{context}", path=path, line=line) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"invalid YAML: {_short(str(error))}", path=path) from None
    finally:
        loader.dispose()
    if problems is None:
        own.raise_if_any()
    return data


def read_yaml_value(text: str, *, key: str, limit: int = 256) -> Any:
    """One value a person typed (``/settings heatmap_command.colormap viridis``), read
    as YAML with the same bounded safe loader as the config files: ``true``,
    ``12`` and ``[a, b]`` mean what they mean in ``plugins.yaml``.

    Raises ConfigError naming ``key`` for text over ``limit`` characters, an
    anchor or alias, nesting past MAX_DEPTH, or a YAML syntax error.
    """
    if len(text) > limit:
        raise ConfigError(f"expected at most {limit} characters, found {len(text):,}", key=key)
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as error:
        raise ConfigError(
            f"character U+{error.character:04X} is not allowed in a value", key=key
        ) from None
    try:
        return loader.get_single_data()
    except _Refused as refused:
        raise ConfigError(f"invalid value: {refused}", key=key) from None
    except yaml.MarkedYAMLError as error:
        raise ConfigError(f"invalid value: {error.problem or 'not YAML'}", key=key) from None
    except yaml.YAMLError:
        raise ConfigError("invalid value", key=key) from None
    finally:
        loader.dispose()


def read_yaml_mapping(
    path: Path,
    what: str = "a mapping of keys to values",
    problems: Problems | None = None,
    *,
    within: Path | None = None,
) -> YamlMap:
    """:func:`read_yaml` for files whose top level must be a mapping; empty means {}."""
    data = read_yaml(path, problems, within=within)
    if data is None:
        return YamlMap(path, 1)
    if not isinstance(data, YamlMap):
        line = getattr(data, "line", 1)
        raise ConfigError(
            f"expected {what} at the top level, found {describe_value(data)}", path=path, line=line
        )
    return data


_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


def _build(
    node: Node,
    loader: yaml.SafeLoader,
    path: Path,
    active: set[int],
    problems: Problems,
    prefix: str = "",
) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        return loader.construct_object(node, deep=True)
    # Invalid YAML, like a syntax error: raised at once (a stand-in value
    # would only add misleading "found null" problems).
    if id(node) in active:  # an alias pointing at one of its own ancestors
        raise ConfigError("recursive YAML alias", path=path, line=line)
    if node.tag not in (_SEQ_TAG, _MAP_TAG):
        # The safe constructor would refuse it too; we build containers ourselves.
        raise ConfigError(f"invalid YAML: unsupported tag {node.tag!r}", path=path, line=line)
    active.add(id(node))
    try:
        if isinstance(node, SequenceNode):
            seq = YamlList(path, line)
            for item in node.value:
                seq.append(_build(item, loader, path, active, problems, f"{prefix}[{len(seq)}]"))
                seq.item_lines.append(item.start_mark.line + 1)
            return seq
        if isinstance(node, MappingNode):
            return _build_mapping(node, loader, path, active, problems, prefix)
        return loader.construct_object(node, deep=True)
    finally:
        active.discard(id(node))


def _build_mapping(
    node: MappingNode,
    loader: yaml.SafeLoader,
    path: Path,
    active: set[int],
    problems: Problems,
    prefix: str,
) -> YamlMap:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, ScalarNode):
            continue  # a list or mapping as a key ("? [a]: 1") is reported below
        key = loader.construct_object(key_node, deep=True)
        key_line = key_node.start_mark.line + 1
        if isinstance(key, str | int | float | bool) and key in seen:
            problems.add(
                ConfigError(
                    f"expected each key once per mapping, found {key!r} again "
                    f"(first on line {seen[key]})",
                    path=path,
                    line=key_line,
                    key=_join(prefix, str(key)),
                )
            )
            continue  # the first one's line stays the one reported for it
        seen[key] = key_line
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merges; later keys win
    out = YamlMap(path, node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if not isinstance(key_node, ScalarNode):
            kind = "a list" if isinstance(key_node, SequenceNode) else "a mapping"
            problems.add(
                ConfigError(f"expected a string key, found {kind}", path=path, line=key_line)
            )
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            problems.add(
                ConfigError(
                    f"expected a string key, found {describe_value(key)}", path=path, line=key_line
                )
            )
            continue
        out[key] = _build(value_node, loader, path, active, problems, _join(prefix, key))
        out.key_lines[key] = key_line
    return out


# --------------------------------------------------------------------------- describing


def describe_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list {_short(list(value))}"
    if value is None:
        return "null"
    return f"{_short(value)} ({type(value).__name__})"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_type(tp: Any) -> str:
    """Human wording of a type annotation: ``a number``, ``one of 'a', 'b'``..."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any or tp is object:
        return "any value"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is str:
        return "a string"
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, pathlib.PurePath):
        return "a path"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if _is_union(tp):
        alts = [describe_type(a) for a in args if a is not type(None)]
        text = " or ".join(alts)
        return f"{text} or null" if type(None) in args else text
    if attrs.has(tp):
        return f"a mapping ({tp.__name__})"
    if origin in (tuple, list, set, frozenset) or origin in (Sequence, typing.Sequence):
        if origin is tuple and args and args[-1] is not Ellipsis:
            return f"a list of {len(args)} items"
        return f"a list of {_plural(args[0]) if args else 'values'}"
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return f"a mapping of names to {_plural(args[1]) if len(args) == 2 else 'values'}"
    if tp in (list, tuple):
        return "a list"
    return f"a {getattr(tp, '__name__', tp)}"


_PLURALS = {bool: "true/false values", int: "integers", float: "numbers", str: "strings"}


def _plural(tp: Any) -> str:
    """``strings`` for ``list[str]``; compound item types are spelled out."""
    if tp in _PLURALS:
        return _PLURALS[tp]
    if isinstance(tp, type) and issubclass(tp, pathlib.PurePath):
        return "paths"
    return f"items that are each {describe_type(tp)}"


def did_you_mean(key: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) is typing.Union or isinstance(tp, types.UnionType)


# --------------------------------------------------------------------------- converting


if TYPE_CHECKING:

    class Field(attrs.Attribute[Any]):
        """A field of a created attrs class: attrs always sets its ``alias``
        (the stub allows None only for a hand-made ``Attribute``)."""

        alias: str

else:
    Field = attrs.Attribute


def resolved_fields(cls: type) -> tuple[Field, ...]:
    """attrs fields with their annotations resolved (``from __future__ import annotations``)."""
    try:
        attrs.resolve_types(cls)
    except Exception as error:  # NameError for a type only imported under TYPE_CHECKING
        raise TypeError(f"cannot resolve the type hints of {cls.__qualname__}: {error}") from None
    return attrs.fields(cls)


def convert(value: Any, tp: Any, where: Where) -> Any:
    """Check ``value`` (plain YAML data) against annotation ``tp`` and return it typed.

    YAML lists become tuples/lists as annotated, nested mappings become the
    annotated attrs classes, ``int`` is accepted for ``float`` but ``bool`` is
    never accepted for a number (nor 0/1 for a bool).  Raises every problem
    found in ``value`` at once (a ConfigErrors when there are several).
    """
    if tp is None or tp is Any or tp is object or isinstance(tp, typing.TypeVar):
        return _plain(value)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return convert(value, args[0], where)
    if _is_union(tp):
        return _convert_union(value, tp, args, where)
    if origin is typing.Literal:
        for allowed in args:
            if value == allowed and type(value) is type(allowed):
                return allowed
        raise _mismatch(value, tp, where)
    if attrs.has(tp):
        if not isinstance(value, Mapping):
            raise _mismatch(value, tp, where)
        return build_attrs(tp, value, where)
    if origin in (tuple, list, set, frozenset, Sequence, typing.Sequence) or tp in (list, tuple):
        return _convert_sequence(value, tp, origin or tp, args, where)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return _convert_dict(value, tp, args, where)
    return _convert_scalar(value, tp, where)


def _convert_union(value: Any, tp: Any, args: tuple[Any, ...], where: Where) -> Any:
    if value is None:
        if type(None) in args:
            return None
        raise _mismatch(value, tp, where)
    errors: list[ConfigError] = []
    for alt in args:
        if alt is type(None):
            continue
        try:
            return convert(value, alt, where)
        except ConfigError as error:
            errors.append(error)
    # One non-null alternative (Optional[X]) that failed deeper inside (a key
    # of a nested mapping, a list item): its own, more precise message.
    if len(errors) == 1 and errors[0].key != where.key:
        raise errors[0]
    raise _mismatch(value, tp, where)


def _convert_sequence(
    value: Any, tp: Any, container: Any, args: tuple[Any, ...], where: Where
) -> Any:
    if not isinstance(value, list | tuple):
        raise _mismatch(value, tp, where)
    lines = getattr(value, "item_lines", None) or [where.line] * len(value)
    if container is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            raise _mismatch(value, tp, where)
        item_types: list[Any] = list(args)
    else:
        item_types = [args[0] if args else Any] * len(value)
    items = []
    problems = Problems()
    for index, (item, item_tp) in enumerate(zip(value, item_types, strict=True)):
        with problems.collect():
            items.append(convert(item, item_tp, where.child(index, lines[index])))
    problems.raise_if_any()
    if container in (list, Sequence, typing.Sequence) and container is not tuple:
        return items if container is list else tuple(items)
    if container in (set, frozenset):
        return container(items)
    return tuple(items)


def _convert_dict(value: Any, tp: Any, args: tuple[Any, ...], where: Where) -> dict[Any, Any]:
    if not isinstance(value, Mapping):
        raise _mismatch(value, tp, where)
    key_tp, value_tp = args if len(args) == 2 else (Any, Any)
    out = {}
    problems = Problems()
    for key, item in value.items():
        sub = key_where(value, str(key), where)
        with problems.collect():
            out[convert(key, key_tp, sub)] = convert(item, value_tp, sub)
    problems.raise_if_any()
    return out


def _convert_scalar(value: Any, tp: Any, where: Where) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    elif isinstance(tp, type) and issubclass(tp, pathlib.PurePath):
        if isinstance(value, str) and value:
            path = Path(value).expanduser()
            # Relative paths are relative to the YAML file that set them, so a
            # config file works from whatever directory the bot is started in.
            if not path.is_absolute() and where.path is not None:
                path = where.path.parent / path
            return tp(path)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        for member in tp:
            if value == member.value and type(value) is type(member.value):
                return member
    elif isinstance(tp, type):
        if isinstance(value, tp):
            return value
    else:
        return value
    raise _mismatch(value, tp, where)


def _mismatch(value: Any, tp: Any, where: Where, expected: str | None = None) -> ConfigError:
    return where.error(f"expected {expected or describe_type(tp)}, found {describe_value(value)}")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def check_unknown_keys(data: Mapping[str, Any], allowed: Sequence[str], where: Where) -> None:
    """Raise every key of ``data`` not in ``allowed``, each with a did-you-mean."""
    problems = Problems()
    choices = ", ".join(allowed) if allowed else "(no keys)"
    for key in data:
        if key not in allowed:
            # Quoted only in part: an unknown "key" may be a line of some other file.
            shown = _short(key, 40)
            where_key = where.child(
                shown.strip("'"), data.line_of(key) if isinstance(data, YamlMap) else None
            )
            problems.add(
                where_key.error(
                    f"expected one of the keys {choices}, found unknown key {shown}"
                    f"{did_you_mean(key, allowed)}"
                )
            )
    problems.raise_if_any()


def build_attrs(cls: type, data: Mapping[str, Any], where: Where) -> Any:
    """Instantiate attrs class ``cls`` from one YAML mapping (missing keys: defaults)."""
    fields = [f for f in resolved_fields(cls) if f.init]
    problems = Problems()
    with problems.collect():
        check_unknown_keys(data, [f.alias for f in fields], where)
    values: dict[str, Any] = {}
    lines: dict[str, Where] = {}
    for field in fields:
        if field.alias not in data:
            if field.default is attrs.NOTHING:
                problems.add(
                    where.error(
                        f"missing required key {field.alias!r} ({describe_type(field.type)})"
                    )
                )
            continue
        sub = key_where(data, field.alias, where)
        with problems.collect():
            values[field.alias] = convert_field(field, data[field.alias], sub)
            lines[field.alias] = sub
    return instantiate(cls, values, lines, where, data, problems)


def convert_field(field: Any, value: Any, where: Where) -> Any:
    """:func:`convert` for one attrs field; its ``metadata["expected"]`` words the error."""
    try:
        return convert(value, field.type, where)
    except ConfigError as error:
        expected = field.metadata.get("expected")
        if expected and error.key == where.key and not isinstance(error, ConfigErrors):
            raise _mismatch(value, field.type, where, expected) from None
        raise


def instantiate(
    cls: type,
    values: dict[str, Any],
    wheres: Mapping[str, Where],
    where: Where,
    raw: Mapping[str, Any] | None = None,
    problems: Problems | None = None,
) -> Any:
    """``cls(**values)``, turning a validator's ValueError/TypeError into a ConfigError.

    Each given field's validator is first run on its own so the error can name
    that field's key and line; whatever still fails at construction (a
    cross-field check in ``__attrs_post_init__``) is reported on the mapping.
    ``problems`` are those already found in the mapping (``values`` then lacks
    the fields that failed): the validators' are added and all are raised
    together, without constructing.
    """
    problems = problems if problems is not None else Problems()
    fields = {f.alias: f for f in attrs.fields(cls) if f.init}
    probe: Any = object.__new__(cls)  # validators read fields off it
    for alias, value in values.items():
        object.__setattr__(probe, fields[alias].name, value)
    for alias, value in values.items():
        field = fields[alias]
        if field.validator is None or field.converter is not None:
            continue
        try:
            field.validator(probe, field, value)
        except (ValueError, TypeError) as error:
            shown = raw[alias] if raw is not None and alias in raw else value
            problems.add(_validator_error(field, shown, error, wheres[alias]))
        except Exception:  # e.g. a validator reading a field not set on the probe
            continue
    problems.raise_if_any()
    try:
        return cls(**values)
    except (ValueError, TypeError) as error:
        raise where.error(f"invalid {cls.__name__}: {error}") from None


def _validator_error(field: Any, value: Any, error: Exception, where: Where) -> ConfigError:
    expected = field.metadata.get("expected")
    if expected:
        return where.error(f"expected {expected}, found {describe_value(value)}")
    return where.error(f"expected a valid value ({error}), found {describe_value(value)}")
