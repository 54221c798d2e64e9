"""YAML loading that refuses what PyYAML silently accepts and reports every failure as one UserError line.

Refused here, before any value reaches a validator: duplicate keys, files over MAX_BYTES, alias trees that
expand past MAX_EXPANDED_NODES (a few hundred bytes of `&a [*a, *a, ...]` expand to billions of values, and
any later `repr()` of them never returns), nesting deeper than the parser can follow, and a whole file in
another format (JSON Lines, TOML, a CloudFormation template, a plan file), which gets one hint naming it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tailor.errors import Problem, UserError

MAX_BYTES = 1 << 20  # the example configs are 2-3 KB and the catalog 16 KB; nothing a person writes is a megabyte
MAX_EXPANDED_NODES = 100_000  # the catalog, the largest file with aliases, expands to about 1,800


class WrittenInt(int):
    """An integer whose YAML text is not its decimal value (`012345670123` is octal 1402433619 in YAML 1.1).

    Messages quote `written`, what the user typed, instead of the number PyYAML made of it.
    """

    written: str

    def __new__(cls, value: int, written: str | None = None) -> WrittenInt:
        made = super().__new__(cls, value)
        made.written = str(value) if written is None else written
        return made

    def __reduce__(self) -> tuple[type[WrittenInt], tuple[int, str]]:  # copy and pickle keep what was written
        return (WrittenInt, (int(self), self.written))


class _StrictLoader(yaml.SafeLoader):
    pass


def _no_duplicates(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


def _int_as_written(loader: _StrictLoader, node: yaml.ScalarNode) -> int:
    value = loader.construct_yaml_int(node)
    text = str(node.value)
    return WrittenInt(value, text) if text != str(value) else value


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _int_as_written)


def load_yaml(path: Path, *, display: str | None = None, expected: str = "YAML") -> Any:
    """The file's one YAML document; `expected` names what the file should be, for the wrong-format hint."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _refuse(name, f"is {size:,} bytes; at most {MAX_BYTES:,} allowed for {expected}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError([Problem(name, "", "file not found")]) from None
    except IsADirectoryError:
        raise _refuse(name, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(name, f"cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
    return parse_yaml(text, name=name, expected=expected)


def parse_yaml(text: str, *, name: str, expected: str = "YAML") -> Any:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, name)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        looks = looks_like(text)
        if looks is not None:
            raise _refuse(name, f"is not {expected}: it looks like {looks}") from None
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError([Problem(name, where, f"invalid YAML: {detail}")]) from None
    except RecursionError:
        raise _refuse(name, "is nested too deeply to read; a Tailor file needs a few levels, not thousands") from None
    finally:
        loader.dispose()


def looks_like(text: str) -> str | None:
    """The format a file not meant for Tailor appears to be in, in words; None when nothing is recognised."""
    if "\x00" in text[:4096]:
        return "a binary file"
    stripped = text.lstrip()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if "AWSTemplateFormatVersion" in text or re.search(r'["\']?Type["\']?\s*:\s*["\']?AWS::', text):
        return "a CloudFormation template (Tailor writes those into cdk.out/; it reads config/<env>.yaml)"
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and {"worst_case_month_usd", "servings"} <= set(doc):
            return "a Tailor plan file (cdk.out/plan-<env>.json, written by `make synth`)"
        if doc is not None:
            return "JSON"
        if len(lines) >= 2 and all(_json_object(line) for line in lines[:5]):
            return "JSON Lines, one record a line: a dataset (reference it from jobs.<key>.training_data instead)"
    if any(re.fullmatch(r"\[\[?[A-Za-z0-9_.\"' -]+\]\]?", line) for line in lines[:50]) and any(
        re.match(r"[A-Za-z0-9_.\"'-]+\s*=", line) for line in lines[:50]
    ):
        return "TOML (Tailor reads YAML: `key: value`, not `key = value`)"
    return None


def foreign_document(raw: Any) -> str | None:
    """What a document that parsed as YAML but is clearly not meant for Tailor is (JSON is YAML too)."""
    if not isinstance(raw, dict):
        return None
    if "AWSTemplateFormatVersion" in raw or (
        isinstance(raw.get("Resources"), dict)
        and any(isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in raw["Resources"].values())
    ):
        return "a CloudFormation template (Tailor writes those into cdk.out/; it reads config/<env>.yaml)"
    if {"worst_case_month_usd", "servings"} <= set(raw):
        return "a Tailor plan file (cdk.out/plan-<env>.json, written by `make synth`)"
    if {"models", "teachers"} <= set(raw):
        return "the model catalog (catalog/models.yaml)"
    return None


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _check_expansion(root: yaml.Node, name: str) -> None:
    """Counts the values the document expands to, each alias counted every time it is used, without expanding.

    Sizes are memoised per node, so the count costs one visit per distinct node however deep the aliases go.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            if size[key] > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                raise _refuse(
                    name,
                    (
                        f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values (the node at "
                        f"line {line}); a Tailor file needs a few thousand at most: write the values out"
                    ),
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise _refuse(name, f"line {node.start_mark.line + 1}: an alias refers to a value that contains it")
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                raise _refuse(name, f"line {child.start_mark.line + 1}: an alias refers to a value that contains it")
            if id(child) not in size:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _refuse(name: str, message: str) -> UserError:
    return UserError([Problem(name, "", message)])
