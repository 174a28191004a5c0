"""Classifying expressions: dotted names, ID minting, fallbacks, and tests for a missing value.

Everything here is a pure function of a libcst node (and the config's name patterns), so
the rules in `analysis.py` read as sentences over these predicates.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import libcst as cst

from auditor.lint.config import matches

#: Wrappers that keep an ID an ID: `str(x)`, `x.hex`, `x[:8]`, `x.upper()`.
_ID_WRAPPERS = frozenset({"str", "format", "repr"})


def dotted_name(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


def item_key(node: cst.CSTNode) -> str | None:
    """`payload['thread_id']` for an item of a dotted name read or written by a string key
    (`payload["thread_id"]`, `payload.get("thread_id")`), None for anything else: the key
    an item's value is followed by, as a name's is."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        return item_key_of(node.value, index.value) if isinstance(index, cst.Index) else None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        plain = len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star
        if node.func.attr.value == "get" and plain:
            return item_key_of(node.func.value, node.args[0].value)
    return None


def item_key_of(container: cst.CSTNode, index: cst.CSTNode) -> str | None:
    """The item key (:func:`item_key`) of ``container[index]``: a dotted name by a string."""
    key, base = string_value(index), dotted_name(container)
    return None if key is None or base is None else f"{base}[{key!r}]"


def item_base(key: str) -> str | None:
    """`payload` for the item key `payload['thread_id']` (:func:`item_key`), else None."""
    return key[: key.index("[")] if key.endswith("]") and "[" in key else None


def value_key(node: cst.CSTNode) -> str | None:
    """The key a value is followed by: a dotted name, or an item (:func:`item_key`)."""
    return dotted_name(node) or item_key(node)


def callee_name(call: cst.Call) -> str:
    """The called name as far as it is written: `self.sm.get_context`, or `?.get_context` for
    `factory().get_context`; rules match on its last segment."""
    func = call.func
    name = dotted_name(func)
    if name is not None:
        return name
    if isinstance(func, cst.Attribute):
        return f"?.{func.attr.value}"
    return "?"


def resolve(name: str, aliases: Mapping[str, str]) -> str:
    """A called name with its imported alias undone: `gt` -> `app.ids.generate_thread_id` after
    `from app.ids import generate_thread_id as gt`, `u.uuid4` -> `uuid.uuid4` after `import
    uuid as u`."""
    head, dot, rest = name.partition(".")
    original = aliases.get(head)
    return name if original is None else original + dot + rest


def import_aliases(node: cst.Import | cst.ImportFrom) -> dict[str, str]:
    """The aliases an import statement binds (``as`` names only: the others keep their name)."""
    names = node.names
    if isinstance(names, cst.ImportStar):
        return {}
    prefix = ""
    if isinstance(node, cst.ImportFrom) and node.module is not None:
        prefix = f"{dotted_name(node.module)}."
    found: dict[str, str] = {}
    for alias in names:
        original = dotted_name(alias.name)
        if alias.asname is not None and original is not None:
            bound = alias.asname.name
            if isinstance(bound, cst.Name):
                found[bound.value] = prefix + original
    return found


def last_segment(name: str) -> str:
    """`c` for `a.b.c`, `thread_id` for the item key `payload['thread_id']`."""
    if item_base(name) is not None:
        item = ast.literal_eval(name[name.index("[") + 1 : -1])
        return item if isinstance(item, str) else name
    return name.rpartition(".")[2]


def strip(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The expression under `await` (parentheses are attributes of the node in libcst)."""
    while isinstance(expr, cst.Await):
        expr = expr.expression
    return expr


def string_value(node: cst.CSTNode) -> str | None:
    """The value of a plain string literal, None for anything else (f-strings included)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True, slots=True)
class Patterns:
    """The name patterns the predicates need, plus helpers found in the module being checked."""

    generators: tuple[str, ...]
    id_prefixes: tuple[str, ...]
    minting_helpers: frozenset[str] = frozenset()
    fallback_helpers: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = field(default_factory=dict)  # imported `as` names (`resolve`)


def is_mint(expr: cst.BaseExpression, patterns: Patterns) -> bool:
    """True when the expression's value is a freshly minted ID: a generator call (or a helper
    that returns one), an f-string with an ID prefix or a minted part (also written with
    `.format`, `%` or `+` on a literal with an ID prefix), or such a value wrapped in `str()`,
    `.hex`, `[:8]`, `+`, `%`."""
    expr = strip(expr)
    if isinstance(expr, cst.Call):
        name = resolve(callee_name(expr), patterns.aliases)
        if matches(name, patterns.generators) or last_segment(name) in patterns.minting_helpers:
            return True
        if name in _ID_WRAPPERS and expr.args:
            return is_mint(expr.args[0].value, patterns)
        if isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value == "format" and expr.args:  # "thread_{}".format(n)
                return _id_template(expr.func.value, patterns) or is_mint(expr.func.value, patterns)
            return is_mint(expr.func.value, patterns)  # uuid4().hex.upper()
        return False
    if isinstance(expr, cst.Attribute):
        return is_mint(expr.value, patterns)
    if isinstance(expr, cst.Subscript):
        return is_mint(expr.value, patterns)
    if isinstance(expr, cst.BinaryOperation):
        # "thread_%d" % n and "thread_" + str(n) build an ID as an f-string with a prefix does
        templated = isinstance(expr.operator, cst.Modulo | cst.Add)
        if templated and _id_template(expr.left, patterns):
            return True
        return is_mint(expr.left, patterns) or is_mint(expr.right, patterns)
    if isinstance(expr, cst.FormattedString):
        return _fstring_mints(expr, patterns)
    if isinstance(expr, cst.ConcatenatedString):
        return any(
            isinstance(part, cst.FormattedString) and _fstring_mints(part, patterns)
            for part in (expr.left, expr.right)
        )
    return False


def _id_template(expr: cst.BaseExpression, patterns: Patterns) -> bool:
    """A plain string literal that starts with an ID prefix (``"thread_%d"``)."""
    value = string_value(strip(expr))
    return value is not None and value.startswith(patterns.id_prefixes)


def _fstring_mints(expr: cst.FormattedString, patterns: Patterns) -> bool:
    parts = expr.parts
    has_expression = any(isinstance(p, cst.FormattedStringExpression) for p in parts)
    first = parts[0] if parts else None
    if (
        has_expression
        and isinstance(first, cst.FormattedStringText)
        and first.value.startswith(patterns.id_prefixes)
    ):
        return True
    return any(
        isinstance(p, cst.FormattedStringExpression) and is_mint(p.expression, patterns)
        for p in parts
    )


@dataclass(frozen=True, slots=True)
class Fallback:
    """A `incoming or mint()` shape. `node` is the fallback expression; `keep` is what a fix
    puts in its place (the incoming value), or None when no rewrite is certain."""

    node: cst.BaseExpression
    keep: cst.BaseExpression | None


def find_fallback(expr: cst.BaseExpression, patterns: Patterns) -> Fallback | None:
    """The fallback that gives this expression its value, if any: `a or mint()`,
    `d.get(k, mint())`, `getattr(o, k, mint())`, `a if cond else mint()`, a helper returning
    one of those, or one of those under an ID wrapper (`str(...)`, then not rewritable)."""
    found = _fallback_at(strip(expr), patterns)
    if found is not None:
        return found
    inner = _wrapped(strip(expr))
    if inner is not None:
        nested = find_fallback(inner, patterns)
        if nested is not None:
            return Fallback(nested.node, None)
    return None


def _fallback_at(expr: cst.BaseExpression, patterns: Patterns) -> Fallback | None:
    if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or):
        if is_mint(expr.right, patterns) and not is_mint(expr.left, patterns):
            keep = (
                expr.left.with_changes(lpar=expr.lpar, rpar=expr.rpar) if expr.lpar else expr.left
            )
            return Fallback(expr, keep)
        return None
    if isinstance(expr, cst.IfExp):
        body_mints, else_mints = is_mint(expr.body, patterns), is_mint(expr.orelse, patterns)
        if body_mints == else_mints:
            return None
        # a fallback only when the mint runs for a missing incoming value (`x if x else
        # new()`), not when it rewrites a present one (`raw if raw is None else f"t_{raw}"`)
        incoming = set(loaded_names(expr.orelse if body_mints else expr.body))
        missing = true_when_missing(expr.test, lambda n: bool(incoming & set(loaded_names(n))))
        if missing is not None and missing == body_mints:
            return Fallback(expr, None)
        return None
    if isinstance(expr, cst.Call):
        return _call_fallback(expr, patterns)
    return None


def _call_fallback(call: cst.Call, patterns: Patterns) -> Fallback | None:
    name = callee_name(call)
    args = call.args
    if last_segment(name) in patterns.fallback_helpers:
        return Fallback(call, None)
    positional = all(arg.keyword is None and not arg.star for arg in args)
    if name.endswith(".get") and len(args) == 2 and positional and is_mint(args[1].value, patterns):
        keep = call.with_changes(args=[args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        return Fallback(call, keep)
    setdefault = name.endswith(".setdefault") and len(args) == 2 and positional
    if setdefault and is_mint(args[1].value, patterns):  # stored and returned when missing
        return Fallback(call, None)
    if name == "getattr" and len(args) == 3 and positional and is_mint(args[2].value, patterns):
        keep = call.with_changes(args=[*args[:2], args[2].with_changes(value=cst.Name("None"))])
        return Fallback(call, keep)
    return None


def _wrapped(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    if isinstance(expr, cst.Call) and callee_name(expr) in _ID_WRAPPERS and expr.args:
        return expr.args[0].value
    if isinstance(expr, cst.Attribute | cst.Subscript):
        return expr.value
    return None


def mentions(test: cst.CSTNode, key: str) -> bool:
    """True when a condition refers to `key`: by name (`not thread_id`, `self.x is None`) or
    as a string literal of its last segment (`"thread_id" not in payload`)."""
    wanted = last_segment(key)
    for node in walk(test):
        if isinstance(node, cst.Name | cst.Attribute) and dotted_name(node) == key:
            return True
        if isinstance(node, cst.SimpleString) and string_value(node) == wanted:
            return True
    return False


def mentions_any(test: cst.CSTNode, patterns: tuple[str, ...]) -> bool:
    """True when a condition refers to any name or string key matching `patterns`
    (`if not payload.get("thread_id"):` guards whatever the branch assigns)."""
    for node in walk(test):
        if isinstance(node, cst.Name) and matches(node.value, patterns):
            return True
        value = string_value(node)
        if value is not None and matches(value, patterns):
            return True
    return False


def _empty(node: cst.BaseExpression) -> bool:
    """`None` or an empty string: what a missing ID is compared with."""
    return (isinstance(node, cst.Name) and node.value == "None") or string_value(node) == ""


def true_when_missing(
    test: cst.BaseExpression, refers: Callable[[cst.CSTNode], bool]
) -> bool | None:
    """Whether a condition holds when the ID it refers to is missing (True: `not x`,
    `x is None`, `"thread_id" not in payload`, `not payload.get("thread_id")`), when it
    is present (False: `x`, `x is not None`, `"thread_id" in payload`), or says nothing
    of it (None: `x and "_" not in x`, a test of something else). ``refers`` tells
    whether a node names the ID."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = true_when_missing(test.expression, refers)
        return None if inner is None else not inner
    if isinstance(test, cst.BooleanOperation):
        parts = {true_when_missing(test.left, refers), true_when_missing(test.right, refers)}
        if isinstance(test.operator, cst.And) and {True, False} <= parts:
            return None  # `not x and y`: contradictory, or unknown
        # `not x or force`, `not x and allowed` hold when x is missing; `x and "_" not in x`
        # when it is present
        return True if True in parts else (False if False in parts else None)
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        operator, left, right = target.operator, test.left, target.comparator
        if isinstance(operator, cst.In | cst.NotIn):  # `"thread_id" not in payload`
            if string_value(left) is None or not (refers(left) or refers(right)):
                return None
            return isinstance(operator, cst.NotIn)
        empty_side = right if _empty(right) else left if _empty(left) else None
        other = left if empty_side is right else right
        if empty_side is None or not refers(other):
            return None
        if isinstance(operator, cst.Is | cst.Equal):
            return True
        if isinstance(operator, cst.IsNot | cst.NotEqual):
            return False
        return None
    if isinstance(test, cst.NamedExpr) and refers(test):
        return False  # `(thread_id := payload.get("thread_id"))`: truthy when present
    if isinstance(test, cst.Name | cst.Attribute | cst.Call | cst.Subscript) and refers(test):
        return False  # truthy when present
    return None


def loaded_names(expr: cst.CSTNode) -> Iterator[str]:
    """Names an expression reads (not attribute names after a dot, not keyword names)."""
    skip: set[int] = set()
    for node in walk(expr):
        if isinstance(node, cst.Attribute):
            skip.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            skip.add(id(node.keyword))
        elif isinstance(node, cst.Name) and id(node) not in skip:
            yield node.value


_SCOPES = frozenset({cst.Lambda, cst.FunctionDef, cst.ClassDef})


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), not entering lambdas or nested scopes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and type(current) in _SCOPES:
            continue
        stack.extend(reversed(current.children))
