"""Validate Amazon Bedrock requests and responses against botocore's service model.

botocore's client-side validation (``ParamValidator``) checks required members,
Python types (``True`` passes as an integer), union exclusivity, ``min``
lengths and numeric ``min`` values only.  It does not check ``max`` lengths or
values, enums or ``pattern`` regexes: a 64-character
``jobName`` or a ``clientRequestToken`` containing ``:`` reaches the wire and
is rejected by AWS with a ``ValidationException``.  This module closes that gap
for tests, for requests (API parameters as passed to boto3, before
serialisation) and for responses (what a double returns, before serialisation).

Public API
----------
``validate_request(operation, params)``
    raise :class:`RequestViolation` if ``params`` break the input shape.
``validate_response(operation, response)``
    raise :class:`ResponseViolation` if ``response`` breaks the output shape
    (``ResponseMetadata`` is ignored).
``validate_error(code, body)``
    check an error body (``{"message": ...}``) against the modelled error shape.
``check_shape(shape, value, path)``
    the recursive checker, returning a list of :class:`Violation`.
``compile_pattern(pattern)``
    the Java-regex-to-Python matcher used for ``pattern`` traits.

Both exceptions subclass :class:`ServiceModelViolation`, an ``AssertionError``.
The message names the operation, the path (``trainingDataConfig.invocationLogsConfig
.invocationLogSource``, ``validators[0].s3Uri``, ``hyperParameters['epochCount']``)
and the rule broken (``required``, ``type``, ``enum``, ``min``, ``max``,
``pattern``, ``union``, ``unknown``).  :meth:`ServiceModelViolation.aws_message`
renders the AWS wording ("1 validation error detected: Value 'x' at 'jobName'
failed to satisfy constraint: Member must have length less than or equal to 63").

Rules
-----
* structure: dict; no unknown members; required members present and not None.
* union (``"union": true``): exactly one member set (not None).
* string: ``str``; ``enum``; ``min``/``max`` = length in characters (AWS counts
  UTF-16 code units: a non-BMP character counts 1 here, 2 there);
  ``pattern`` = FULL match (AWS/Coral validates with Java ``Matcher.matches()``;
  note that the Smithy spec itself says patterns are not implicitly anchored,
  so full-match is the conservative reading).
* integer/long: ``int`` but not ``bool``; float/double: int, float or Decimal
  (not bool); ``min``/``max`` = value.  boolean: ``bool``.
* timestamp: request side accepts what botocore serialises (datetime, ISO-8601
  string, epoch number); response side requires a timezone-aware
  ``datetime.datetime`` (what botocore's parser produces).
* blob: bytes/bytearray (requests also str / file-like); ``min``/``max`` = bytes.
* list: list/tuple, ``min``/``max`` = item count; map: dict, ``min``/``max`` =
  entry count, keys and values checked against their shapes.
* document shapes: any JSON-like value, not checked further.
* sensitive shapes: value shown as ``***`` in messages.

Patterns (Java regex dialect)
-----------------------------
Patterns are translated to Python syntax and matched by a small Thompson-NFA /
lazy-DFA engine built on ``re._parser``, in time linear in the input.  Python's
backtracking ``re`` is exponential on several AWS patterns: the Bedrock
``jobName`` pattern ``[a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*`` takes ~1 s for
``"a" + "-" * 24 + "!"`` and doubles with every extra ``-``, which would hang a
property-based test.  Java semantics kept: ``\\d \\w \\s \\b`` are ASCII, ``.``
excludes ``\\n \\r \\u0085 \\u2028 \\u2029``.

Translated Java-isms: ``\\p{L}``-style Unicode general categories (``\\p{L}``,
``\\p{IsL}``, ``\\p{Lu}``, ``\\p{M}``, ``\\p{N}``, ``\\p{Nd}`` ..., built from
``unicodedata``, so the Unicode version is Python's), POSIX classes
(``\\p{Alpha}``, ``\\p{Alnum}``, ``\\p{Digit}``, ``\\p{Punct}``, ``\\p{Space}``,
... ASCII, as in Java), their ``\\P{..}`` negations outside a character class,
``\\Q..\\E`` quoting, ``\\z``, ``\\h``/``\\H``, ``\\v`` (Java 8: vertical
whitespace), ``\\e``, ``\\x{h..h}``.  Approximated: ``\\Z`` is treated as ``\\z``
and ``$`` matches only at the very end (Java also allows a final line
terminator before it).

Skipped (the pattern check is NOT performed; the pattern is recorded in
:data:`SKIPPED_PATTERNS` with the reason, and ``test_service_model.py`` asserts
that no Bedrock pattern is skipped): ``\\P{..}`` inside a character class,
nested classes / class union ``[a[b]]`` and intersection ``&&``, ``\\R``,
``\\X``, ``\\G``, ``\\k<name>``, ``\\cX``, unknown ``\\p{..}`` names (Unicode
blocks/scripts such as ``\\p{InGreek}``, ``\\p{javaLowerCase}``).  Patterns that
translate but use constructs the linear engine does not implement (look-around,
back-references, inline flags, possessive quantifiers, atomic groups) fall back
to Python ``re`` (``re.ASCII``), recorded in :data:`FALLBACK_PATTERNS`, with the
usual backtracking risk.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import decimal
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from botocore import xform_name
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StringShape, StructureShape

if TYPE_CHECKING:  # typeshed stubs re's private _constants/_parser only under their old public names
    import sre_constants as _sre_c
    import sre_parse as _sre_parse
else:
    try:  # Python >= 3.11
        from re import _constants as _sre_c
        from re import _parser as _sre_parse
    except ImportError:  # pragma: no cover - Python < 3.11
        import sre_constants as _sre_c
        import sre_parse as _sre_parse

__all__ = [
    "FALLBACK_PATTERNS",
    "SKIPPED_PATTERNS",
    "CompiledPattern",
    "RequestViolation",
    "ResponseViolation",
    "ServiceModelViolation",
    "UnsupportedPattern",
    "Violation",
    "check_shape",
    "compile_pattern",
    "get_service_model",
    "operation_model",
    "translate_java_regex",
    "validate_error",
    "validate_request",
    "validate_response",
]

SERVICE_NAME = "bedrock"

#: pattern -> reason, for patterns whose check was skipped (untranslatable).
SKIPPED_PATTERNS: dict[str, str] = {}
#: pattern -> reason, for patterns matched with Python ``re`` instead of the linear engine.
FALLBACK_PATTERNS: dict[str, str] = {}


# --------------------------------------------------------------------------
# Service model access
# --------------------------------------------------------------------------


@functools.cache
def get_service_model(service_name: str = SERVICE_NAME) -> ServiceModel:
    """The installed botocore service model (cached)."""
    return botocore.session.get_session().get_service_model(service_name)


@functools.cache
def _snake_to_api(service_name: str) -> dict[str, str]:
    model = get_service_model(service_name)
    return {xform_name(name): name for name in model.operation_names}


def operation_model(operation: str, service_model: ServiceModel | None = None) -> OperationModel:
    """Operation model by API name (``CreateModelCustomizationJob``) or method name
    (``create_model_customization_job``).  Unknown names raise ``KeyError``."""
    model = service_model or get_service_model()
    names = model.operation_names
    if operation in names:
        return model.operation_model(operation)
    api = _snake_to_api(model.service_name).get(operation)
    if api is None:
        raise KeyError(f"{model.service_name} has no operation {operation!r}")
    return model.operation_model(api)


# --------------------------------------------------------------------------
# Violations
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    ``path``: dotted member path; ``rule``: required, type, enum, min, max,
    pattern, union or unknown; ``message``: short human description;
    ``value``: repr of the offending value (``***`` when sensitive, ``None`` when
    absent); ``constraint``: the AWS "Member must ..." phrase.
    """

    path: str
    rule: str
    message: str
    value: str | None = None
    constraint: str = ""
    shape: str = ""

    def __str__(self) -> str:
        where = self.path or "<root>"
        shape = f" (shape {self.shape})" if self.shape else ""
        return f"{where}: [{self.rule}] {self.message}{shape}"


class ServiceModelViolation(AssertionError):
    """A request or response does not conform to the botocore service model."""

    direction = "message"

    def __init__(self, operation: str, violations: Iterable[Violation]):
        self.operation = operation
        self.violations = list(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(
            f"{operation} {self.direction} violates the {SERVICE_NAME} service model "
            f"({len(self.violations)} violation{'s' if len(self.violations) != 1 else ''}):\n{lines}"
        )

    @property
    def paths(self) -> list[str]:
        return [v.path for v in self.violations]

    @property
    def rules(self) -> list[str]:
        return [v.rule for v in self.violations]

    def aws_message(self) -> str:
        """The violations in the wording AWS uses for a ``ValidationException``."""
        parts = []
        for v in self.violations:
            value = "null" if v.value is None else v.value
            parts.append(f"Value {value} at '{v.path}' failed to satisfy constraint: {v.constraint}")
        n = len(parts)
        return f"{n} validation error{'s' if n != 1 else ''} detected: " + "; ".join(parts)


class RequestViolation(ServiceModelViolation):
    direction = "request"


class ResponseViolation(ServiceModelViolation):
    direction = "response"


# --------------------------------------------------------------------------
# Java regex -> Python translation
# --------------------------------------------------------------------------


class UnsupportedPattern(ValueError):
    """A pattern construct this module cannot translate or match."""


_POSIX_CLASSES = {
    # Java POSIX character classes (US-ASCII only unless UNICODE_CHARACTER_CLASS)
    "Lower": "a-z",
    "Upper": "A-Z",
    "ASCII": "\\x00-\\x7f",
    "Alpha": "a-zA-Z",
    "Digit": "0-9",
    "Alnum": "a-zA-Z0-9",
    "Punct": "!-/:-@\\[-`{-~",
    "Graph": "!-~",
    "Print": " -~",
    "Blank": " \\t",
    "Cntrl": "\\x00-\\x1f\\x7f",
    "XDigit": "0-9a-fA-F",
    "Space": " \\t\\n\\x0b\\f\\r",
}

_GENERAL_CATEGORIES = {
    "L",
    "Lu",
    "Ll",
    "Lt",
    "Lm",
    "Lo",
    "M",
    "Mn",
    "Mc",
    "Me",
    "N",
    "Nd",
    "Nl",
    "No",
    "P",
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
    "S",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Z",
    "Zs",
    "Zl",
    "Zp",
    "C",
    "Cc",
    "Cf",
    "Cs",
    "Co",
    "Cn",
}

_HORIZONTAL_WS = " \\t\\xa0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000"
_VERTICAL_WS = "\\n\\x0b\\f\\r\\x85\\u2028\\u2029"


def _escape_cp(cp: int) -> str:
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


@functools.cache
def _category_class_body(category: str) -> str:
    """Character-class body (no brackets) for a Unicode general category or major class."""
    ranges: list[list[int]] = []
    prefix_match = len(category) == 1
    for cp in range(0x110000):
        cat = unicodedata.category(chr(cp))
        if (cat[0] == category) if prefix_match else (cat == category):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    parts = []
    for lo, hi in ranges:
        parts.append(_escape_cp(lo) if lo == hi else f"{_escape_cp(lo)}-{_escape_cp(hi)}")
    return "".join(parts)


def _property_body(name: str) -> str:
    if name in _POSIX_CLASSES:
        return _POSIX_CLASSES[name]
    if name.startswith("Is") and name[2:] in _GENERAL_CATEGORIES:
        name = name[2:]
    if name.startswith("general_category=") or name.startswith("gc="):
        name = name.split("=", 1)[1]
    if name in _GENERAL_CATEGORIES:
        return _category_class_body(name)
    raise UnsupportedPattern(f"\\p{{{name}}} (Unicode block/script/java* property) is not supported")


def translate_java_regex(pattern: str) -> str:
    """Translate a Java regex (as used in botocore models) to Python ``re`` syntax.

    Raises :class:`UnsupportedPattern` for constructs listed in the module docstring.
    """
    out: list[str] = []
    i = 0
    n = len(pattern)
    in_class = False
    class_body_start = False  # just after '[' or '[^'
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                raise UnsupportedPattern("trailing backslash")
            e = pattern[i + 1]
            if e in "pP":
                if i + 2 < n and pattern[i + 2] == "{":
                    close = pattern.find("}", i + 3)
                    if close < 0:
                        raise UnsupportedPattern("unterminated \\p{")
                    name = pattern[i + 3 : close]
                    j = close + 1
                elif i + 2 < n:
                    name = pattern[i + 2]
                    j = i + 3
                else:
                    raise UnsupportedPattern("dangling \\p")
                body = _property_body(name)
                negate = e == "P"
                if in_class:
                    if negate:
                        raise UnsupportedPattern("\\P{..} inside a character class")
                    out.append(body)
                else:
                    out.append(f"[{'^' if negate else ''}{body}]")
                i = j
                class_body_start = False
                continue
            if e == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append("".join(_escape_literal(ch, in_class) for ch in literal))
                i = n if end < 0 else end + 2
                class_body_start = False
                continue
            if e in "zZ":
                if in_class:
                    raise UnsupportedPattern(f"\\{e} inside a character class")
                out.append("\\Z")
            elif e == "h":
                out.append(_HORIZONTAL_WS if in_class else f"[{_HORIZONTAL_WS}]")
            elif e == "H":
                if in_class:
                    raise UnsupportedPattern("\\H inside a character class")
                out.append(f"[^{_HORIZONTAL_WS}]")
            elif e == "v":
                out.append(_VERTICAL_WS if in_class else f"[{_VERTICAL_WS}]")
            elif e == "V":
                if in_class:
                    raise UnsupportedPattern("\\V inside a character class")
                out.append(f"[^{_VERTICAL_WS}]")
            elif e == "e":
                out.append("\\x1b")
            elif e == "x" and i + 2 < n and pattern[i + 2] == "{":
                close = pattern.find("}", i + 3)
                if close < 0:
                    raise UnsupportedPattern("unterminated \\x{")
                out.append(_escape_cp(int(pattern[i + 3 : close], 16)))
                i = close + 1
                class_body_start = False
                continue
            elif e in "RXGkcEiIjJKlLmMoOqTyY":
                raise UnsupportedPattern(f"\\{e} is not supported")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            class_body_start = False
            continue
        if in_class:
            if c == "[":
                raise UnsupportedPattern("nested character class / class union")
            if c == "&" and pattern.startswith("&&", i):
                raise UnsupportedPattern("character class intersection (&&)")
            if c == "]" and not class_body_start:
                in_class = False
            out.append(c)
            class_body_start = False
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            class_body_start = True
            continue
        out.append(c)
        i += 1
    if in_class:
        raise UnsupportedPattern("unterminated character class")
    return "".join(out)


def _escape_literal(ch: str, in_class: bool) -> str:
    if ch.isalnum() or ch == "_":
        return ch
    return "\\" + ch if ord(ch) < 128 else _escape_cp(ord(ch))


# --------------------------------------------------------------------------
# Linear-time matcher (Thompson NFA simulated as a lazily built DFA)
# --------------------------------------------------------------------------

_CHAR, _SPLIT, _ASSERT, _EPS, _MATCH = range(5)
_MAX_STATES = 200_000
_CACHE_LIMIT = 200_000
_JAVA_LINE_TERMINATORS = frozenset(map(ord, "\n\r\u0085\u2028\u2029"))


def _is_word(cp: int) -> bool:
    return cp < 128 and (chr(cp).isalnum() or cp == 95)


_CATEGORY_PREDICATES: dict[Any, Callable[[int], bool]] = {
    _sre_c.CATEGORY_DIGIT: lambda o: 48 <= o <= 57,
    _sre_c.CATEGORY_NOT_DIGIT: lambda o: not 48 <= o <= 57,
    _sre_c.CATEGORY_SPACE: lambda o: o in (9, 10, 11, 12, 13, 32),
    _sre_c.CATEGORY_NOT_SPACE: lambda o: o not in (9, 10, 11, 12, 13, 32),
    _sre_c.CATEGORY_WORD: _is_word,
    _sre_c.CATEGORY_NOT_WORD: lambda o: not _is_word(o),
}


def _in_predicate(items: list[Any]) -> Callable[[int], bool]:
    negate = False
    literals: set[int] = set()
    ranges: list[tuple[int, int]] = []
    categories: list[Callable[[int], bool]] = []
    for op, av in items:
        if op is _sre_c.NEGATE:
            negate = True
        elif op is _sre_c.LITERAL:
            literals.add(av)
        elif op is _sre_c.RANGE:
            ranges.append(av)
        elif op is _sre_c.CATEGORY:
            if av not in _CATEGORY_PREDICATES:
                raise UnsupportedPattern(f"category {av}")
            categories.append(_CATEGORY_PREDICATES[av])
        else:
            raise UnsupportedPattern(f"class item {op}")
    ranges.sort()
    merged: list[list[int]] = []
    for lo, hi in ranges:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    starts = [lo for lo, _ in merged]
    ends = [hi for _, hi in merged]

    def pred(o: int) -> bool:
        hit = o in literals
        if not hit and starts:
            k = bisect.bisect_right(starts, o) - 1
            hit = k >= 0 and o <= ends[k]
        if not hit:
            hit = any(cat(o) for cat in categories)
        return hit != negate

    return pred


class _LinearMatcher:
    """Full-match a parsed regex without backtracking."""

    def __init__(self, python_pattern: str):
        parsed = _sre_parse.parse(python_pattern, re.ASCII)
        if parsed.state.flags & ~(re.ASCII | re.UNICODE):
            raise UnsupportedPattern("inline flags")
        self.kind: list[int] = []
        self.arg: list[Any] = []
        self.out1: list[int] = []
        self.out2: list[int] = []
        self.uses_boundary = False
        match = self._new(_MATCH)
        self.start = self._seq(list(cast("Iterable[Any]", parsed)), match)  # iterable via __getitem__
        self._closure_cache: dict[tuple[frozenset[int], tuple[bool, bool, bool, bool]], frozenset[int]] = {}
        self._step_cache: dict[tuple[frozenset[int], int], frozenset[int]] = {}

    # -- construction ------------------------------------------------------
    def _new(self, kind: int, arg: Any = None, out1: int = -1, out2: int = -1) -> int:
        if len(self.kind) >= _MAX_STATES:
            raise UnsupportedPattern("pattern too large for the linear engine")
        self.kind.append(kind)
        self.arg.append(arg)
        self.out1.append(out1)
        self.out2.append(out2)
        return len(self.kind) - 1

    def _seq(self, items: list[Any], nxt: int) -> int:
        for op, av in reversed(items):
            nxt = self._item(op, av, nxt)
        return nxt

    def _item(self, op: Any, av: Any, nxt: int) -> int:
        c = _sre_c
        if op is c.LITERAL:
            return self._new(_CHAR, (lambda o, v=av: o == v), nxt)
        if op is c.NOT_LITERAL:
            return self._new(_CHAR, (lambda o, v=av: o != v), nxt)
        if op is c.ANY:
            return self._new(_CHAR, (lambda o: o not in _JAVA_LINE_TERMINATORS), nxt)
        if op is c.IN:
            return self._new(_CHAR, _in_predicate(av), nxt)
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise UnsupportedPattern("inline flags in group")
            return self._seq(list(sub), nxt)
        if op is c.BRANCH:
            _, alternatives = av
            starts = [self._seq(list(alt), nxt) for alt in alternatives]
            start = starts[-1]
            for s in reversed(starts[:-1]):
                start = self._new(_SPLIT, None, s, start)
            return start
        if op is c.MAX_REPEAT or op is c.MIN_REPEAT:
            lo, hi, sub = av
            sub = list(sub)
            if hi is c.MAXREPEAT or hi == c.MAXREPEAT:
                loop = self._new(_SPLIT)
                body = self._seq(sub, loop)
                self.out1[loop] = body
                self.out2[loop] = nxt
                start = loop
            else:
                start = nxt
                for _ in range(hi - lo):
                    start = self._new(_SPLIT, None, self._seq(sub, start), nxt)
            for _ in range(lo):
                start = self._seq(sub, start)
            return start
        if op is c.AT:
            if av in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY):
                self.uses_boundary = True
            elif av not in (c.AT_BEGINNING, c.AT_BEGINNING_STRING, c.AT_END, c.AT_END_STRING):
                raise UnsupportedPattern(f"anchor {av}")
            return self._new(_ASSERT, av, nxt)
        raise UnsupportedPattern(f"{op} is not supported by the linear engine")

    # -- simulation ----------------------------------------------------------
    def _assert_ok(self, at: Any, ctx: tuple[bool, bool, bool, bool]) -> bool:
        c = _sre_c
        at_start, at_end, prev_word, next_word = ctx
        if at is c.AT_BEGINNING or at is c.AT_BEGINNING_STRING:
            return at_start
        if at is c.AT_END or at is c.AT_END_STRING:
            return at_end
        if at is c.AT_BOUNDARY:
            return prev_word != next_word
        if at is c.AT_NON_BOUNDARY:
            return prev_word == next_word
        return False  # pragma: no cover

    def _closure(self, kernel: frozenset[int], ctx: tuple[bool, bool, bool, bool]) -> frozenset[int]:
        key = (kernel, ctx)
        hit = self._closure_cache.get(key)
        if hit is not None:
            return hit
        seen: set[int] = set()
        result: set[int] = set()
        stack = list(kernel)
        kind, out1, out2, arg = self.kind, self.out1, self.out2, self.arg
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            k = kind[s]
            if k == _SPLIT:
                stack.append(out1[s])
                stack.append(out2[s])
            elif k == _ASSERT:
                if self._assert_ok(arg[s], ctx):
                    stack.append(out1[s])
            elif k == _EPS:  # pragma: no cover - not emitted today
                stack.append(out1[s])
            else:
                result.add(s)
        frozen = frozenset(result)
        if len(self._closure_cache) > _CACHE_LIMIT:
            self._closure_cache.clear()
        self._closure_cache[key] = frozen
        return frozen

    def _step(self, closed: frozenset[int], o: int) -> frozenset[int]:
        key = (closed, o)
        hit = self._step_cache.get(key)
        if hit is not None:
            return hit
        kind, arg, out1 = self.kind, self.arg, self.out1
        nxt = frozenset(out1[s] for s in closed if kind[s] == _CHAR and arg[s](o))
        if len(self._step_cache) > _CACHE_LIMIT:
            self._step_cache.clear()
        self._step_cache[key] = nxt
        return nxt

    def fullmatch(self, text: str) -> bool:
        n = len(text)
        kernel = frozenset((self.start,))
        prev_word = False
        boundary = self.uses_boundary
        for i, ch in enumerate(text):
            o = ord(ch)
            next_word = _is_word(o) if boundary else False
            closed = self._closure(kernel, (i == 0, False, prev_word, next_word))
            kernel = self._step(closed, o)
            if not kernel:
                return False
            prev_word = next_word
        closed = self._closure(kernel, (n == 0, True, prev_word, False))
        return any(self.kind[s] == _MATCH for s in closed)


@dataclass
class CompiledPattern:
    """A botocore ``pattern`` ready to full-match.

    ``engine`` is ``"linear"`` (NFA/DFA, no backtracking), ``"re"`` (Python
    fallback) or ``"skipped"`` (untranslatable: :meth:`fullmatch` always True).
    """

    java: str
    python: str | None
    engine: str
    reason: str = ""
    _matcher: Any = None

    def fullmatch(self, text: str) -> bool:
        if self.engine == "skipped":
            return True
        if self.engine == "re":
            return self._matcher.fullmatch(text) is not None
        return cast(bool, self._matcher.fullmatch(text))  # the linear engine's matcher returns a bool


@functools.lru_cache(maxsize=4096)
def compile_pattern(java_pattern: str) -> CompiledPattern:
    """Compile a botocore/Java pattern; see the module docstring for what is supported."""
    try:
        python = translate_java_regex(java_pattern)
        re.compile(python, re.ASCII)
    except (UnsupportedPattern, re.error) as exc:
        SKIPPED_PATTERNS[java_pattern] = str(exc)
        return CompiledPattern(java_pattern, None, "skipped", str(exc))
    try:
        return CompiledPattern(java_pattern, python, "linear", "", _LinearMatcher(python))
    except UnsupportedPattern as exc:
        FALLBACK_PATTERNS[java_pattern] = str(exc)
        return CompiledPattern(java_pattern, python, "re", str(exc), re.compile(python, re.ASCII))


# --------------------------------------------------------------------------
# Shape checking
# --------------------------------------------------------------------------


def _render(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "'***'"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return text


def _member_path(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


def check_shape(shape: Shape, value: Any, path: str = "", *, response: bool = False) -> list[Violation]:
    """Check ``value`` against ``shape`` recursively; return every violation found."""
    found: list[Violation] = []
    _check(shape, value, path, response, found, False)
    return found


def _check(shape: Shape, value: Any, path: str, response: bool, out: list[Violation], sensitive: bool) -> None:
    meta = shape.metadata
    sensitive = sensitive or bool(meta.get("sensitive"))
    t = shape.type_name
    shown = _render(value, sensitive)

    def bad(rule: str, message: str, constraint: str) -> None:
        out.append(Violation(path, rule, message, shown, constraint, shape.name))

    if meta.get("document"):
        return
    if t == "structure":
        if not isinstance(value, dict):
            bad("type", f"expected a structure (dict), got {type(value).__name__}", "Member must be a structure")
            return
        members = cast(StructureShape, shape).members
        for key in value:
            if key not in members:
                out.append(
                    Violation(
                        _member_path(path, str(key)),
                        "unknown",
                        f"unknown member {key!r}; valid members: {', '.join(members)}",
                        _render(value[key], sensitive),
                        "Member is not part of the model (unknown member)",
                        shape.name,
                    )
                )
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(
                    Violation(
                        _member_path(path, name),
                        "required",
                        "required member is missing",
                        None,
                        "Member must not be null",
                        members[name].name if name in members else "",
                    )
                )
        if meta.get("union"):
            set_members = [k for k in members if value.get(k) is not None]
            if len(set_members) != 1:
                desc = ", ".join(set_members) if set_members else "none"
                bad(
                    "union",
                    f"union must have exactly one member set, got {len(set_members)} ({desc}); "
                    f"members: {', '.join(members)}",
                    "Member must have exactly one member set (union)",
                )
        for key, item in value.items():
            if key in members and item is not None:
                _check(members[key], item, _member_path(path, key), response, out, sensitive)
        return
    if t == "list":
        if not isinstance(value, (list, tuple)):
            bad("type", f"expected a list, got {type(value).__name__}", "Member must be a list")
            return
        _check_bounds(shape, len(value), "length", bad)
        for i, item in enumerate(value):
            if item is None:
                out.append(
                    Violation(
                        f"{path}[{i}]",
                        "required",
                        "list item is null",
                        None,
                        "Member must not be null",
                        cast(ListShape, shape).member.name,
                    )
                )
                continue
            _check(cast(ListShape, shape).member, item, f"{path}[{i}]", response, out, sensitive)
        return
    if t == "map":
        if not isinstance(value, dict):
            bad("type", f"expected a map (dict), got {type(value).__name__}", "Member must be a map")
            return
        _check_bounds(shape, len(value), "length", bad)
        map_shape = cast(MapShape, shape)
        for k, v in value.items():
            sub = f"{path}[{k!r}]"
            _check(map_shape.key, k, f"{sub}<key>", response, out, sensitive)
            if v is None:
                out.append(
                    Violation(
                        sub, "required", "map value is null", None, "Member must not be null", map_shape.value.name
                    )
                )
                continue
            _check(map_shape.value, v, sub, response, out, sensitive)
        return
    if t == "string":
        if not isinstance(value, str):
            bad("type", f"expected a string, got {type(value).__name__}", "Member must be a string")
            return
        enum = cast(StringShape, shape).enum
        if enum and value not in enum:
            bad("enum", f"{shown} is not one of {enum}", f"Member must satisfy enum value set: [{', '.join(enum)}]")
        _check_bounds(shape, len(value), "length", bad)
        pattern = meta.get("pattern")
        if pattern is not None:
            compiled = compile_pattern(pattern)
            if not compiled.fullmatch(value):
                bad(
                    "pattern",
                    f"{shown} does not fully match pattern {pattern!r}",
                    f"Member must satisfy regular expression pattern: {pattern}",
                )
        return
    if t in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            bad("type", f"expected an {t}, got {type(value).__name__}", f"Member must be an {t}")
            return
        _check_bounds(shape, value, "value", bad)
        return
    if t in ("float", "double"):
        if not _is_number(value):
            bad("type", f"expected a {t}, got {type(value).__name__}", f"Member must be a {t}")
            return
        _check_bounds(shape, value, "value", bad)
        return
    if t == "boolean":
        if not isinstance(value, bool):
            bad("type", f"expected a boolean, got {type(value).__name__}", "Member must be a boolean")
        return
    if t == "timestamp":
        if response:
            if not isinstance(value, _dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
                bad(
                    "type",
                    f"expected a timezone-aware datetime, got {shown}",
                    "Member must be a timezone-aware timestamp",
                )
            return
        if isinstance(value, _dt.datetime) or _is_number(value):
            return
        if isinstance(value, str):
            try:
                from botocore.utils import parse_timestamp

                parse_timestamp(value)
                return
            except (ValueError, TypeError):
                pass
        bad(
            "type",
            f"expected a timestamp (datetime, ISO-8601 string or epoch), got {shown}",
            "Member must be a timestamp",
        )
        return
    if t == "blob":
        if isinstance(value, (bytes, bytearray)):
            _check_bounds(shape, len(value), "length", bad)
        elif isinstance(value, str) and not response:
            _check_bounds(shape, len(value.encode("utf-8")), "length", bad)
        elif response or not hasattr(value, "read"):
            bad("type", f"expected bytes, got {type(value).__name__}", "Member must be a blob")
        return
    bad("type", f"shape type {t!r} is not supported by the validator", "unsupported shape type")  # pragma: no cover


def _check_bounds(shape: Shape, measure: Any, what: str, bad: Callable[[str, str, str], None]) -> None:
    meta = shape.metadata
    lo = meta.get("min")
    hi = meta.get("max")
    noun = "length" if what == "length" else "value"
    if lo is not None and measure < lo:
        bad("min", f"{noun} {measure} is below min {lo}", f"Member must have {noun} greater than or equal to {lo}")
    if hi is not None and measure > hi:
        bad("max", f"{noun} {measure} exceeds max {hi}", f"Member must have {noun} less than or equal to {hi}")


# --------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------


def validate_request(operation: str, params: dict[str, Any], *, service_model: ServiceModel | None = None) -> None:
    """Raise :class:`RequestViolation` unless ``params`` conform to the operation's input shape."""
    op = operation_model(operation, service_model)
    shape = op.input_shape
    if shape is None:
        if params:
            raise RequestViolation(
                op.name, [Violation("", "unknown", f"operation takes no input, got {sorted(params)}")]
            )
        return
    violations = check_shape(shape, params, "", response=False)
    if violations:
        raise RequestViolation(op.name, violations)


def validate_response(operation: str, response: dict[str, Any], *, service_model: ServiceModel | None = None) -> None:
    """Raise :class:`ResponseViolation` unless ``response`` conforms to the output shape.

    A top-level ``ResponseMetadata`` key (added by botocore) is ignored.
    """
    op = operation_model(operation, service_model)
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    shape = op.output_shape
    if shape is None:
        if body:
            raise ResponseViolation(op.name, [Violation("", "unknown", f"operation has no output, got {sorted(body)}")])
        return
    violations = check_shape(shape, body, "", response=True)
    if violations:
        raise ResponseViolation(op.name, violations)


def validate_error(
    code: str, body: dict[str, Any], *, operation: str | None = None, service_model: ServiceModel | None = None
) -> None:
    """Check an error body against the modelled error shape for ``code``.

    With ``operation``, also require that the operation models the error code.
    Unmodelled codes (e.g. ``ServiceUnavailableException``) are accepted when
    no operation is given and the code is not in the model.
    """
    model = service_model or get_service_model()
    name = operation or f"error {code}"
    if operation is not None:
        op = operation_model(operation, model)
        modelled = [s.name for s in op.error_shapes]
        if code not in modelled:
            raise ResponseViolation(
                op.name, [Violation("Error.Code", "enum", f"{code!r} is not a modelled error of {op.name}: {modelled}")]
            )
    shape = cast("Shape | None", model.shape_for_error_code(code))  # type: ignore[arg-type]  # stubs: int -> Shape
    if shape is None:
        return
    violations = check_shape(shape, body, "", response=True)
    if violations:
        raise ResponseViolation(name, violations)
