"""One libcst pass over a module that records the facts the rules need, per function and class.

The rules (`analysis.py`) then decide on these facts; nothing here decides what is a defect.
The pass needs no metadata: it numbers the nodes it records in visiting order (enough to
say what comes before what) and keeps the chain of enclosing blocks, `if`s and `try`s of
each (enough to say what runs conditionally). Source positions are resolved later, only
for modules that have findings, because PositionProvider costs a second full pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from auditor.lint.config import LintConfig, matches
from auditor.lint.exprs import (
    callee_name,
    import_aliases,
    item_key_of,
    resolve,
    string_value,
    value_key,
)

#: Methods that set an instance up rather than serve a request (never QC002).
SETUP_METHODS = frozenset(
    {"__init__", "__new__", "__post_init__", "__enter__", "__aenter__", "__set_name__", "setup"}
)


@dataclass(slots=True)
class Assignment:
    """`key = value` (key a dotted name such as `thread_id` or `self._thread_id`, or an item
    such as `payload['thread_id']`; also `(key := value)` and `d.setdefault(k, value)`)."""

    key: str
    value: cst.BaseExpression
    stmt: cst.CSTNode
    start: int
    end: int
    ancestors: tuple[cst.CSTNode, ...]
    #: `payload.setdefault("thread_id", value)`: the value is stored only when the key is
    #: missing (a mint there is a fallback)
    if_missing: bool = False


@dataclass(slots=True)
class GetterCall:
    """A call whose name matches the configured context/session getters."""

    call: cst.Call
    name: str
    start: int
    ancestors: tuple[cst.CSTNode, ...]


@dataclass(slots=True)
class ThreadRead:
    """Where a function reads the client's thread ID (`payload["thread_id"]`, a parameter)."""

    node: cst.CSTNode
    start: int


@dataclass(slots=True)
class FunctionFacts:
    """What one function (or method) assigns, calls, reads and returns."""

    node: cst.FunctionDef
    name: str
    params: list[str]
    owner: ClassFacts | None
    assignments: list[Assignment] = field(default_factory=list)
    getter_calls: list[GetterCall] = field(default_factory=list)
    thread_reads: list[ThreadRead] = field(default_factory=list)
    returns: list[cst.BaseExpression] = field(default_factory=list)


@dataclass(slots=True)
class SelfWrite:
    """`self.<attr> = value` inside a method."""

    attr: str
    target: cst.Attribute
    value: cst.BaseExpression
    method: FunctionFacts


@dataclass(slots=True)
class ClassFacts:
    """A class: its methods, the instance attributes each method writes and reads."""

    node: cst.ClassDef
    name: str
    methods: list[FunctionFacts] = field(default_factory=list)
    writes: list[SelfWrite] = field(default_factory=list)
    reads: dict[str, set[str]] = field(default_factory=dict)


class Collector(cst.CSTVisitor):
    """Collects `FunctionFacts` and `ClassFacts` for a module: `module.visit(Collector(config))`."""

    def __init__(self, config: LintConfig) -> None:
        super().__init__()
        self.config = config
        self.functions: list[FunctionFacts] = []
        self.classes: list[ClassFacts] = []
        self._scopes: list[FunctionFacts | ClassFacts] = []
        self._stores: set[int] = set()
        self._chain: list[cst.CSTNode] = []
        self._function_depth: list[int] = []
        self._order = 0
        self.aliases: dict[str, str] = {}  # imported `as` names -> what they name

    def visit_Import(self, node: cst.Import) -> None:
        self.aliases.update(import_aliases(node))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.aliases.update(import_aliases(node))

    # The chain of enclosing functions, blocks, conditions and handlers of recorded nodes.
    def _push(self, node: cst.CSTNode) -> None:
        self._chain.append(node)

    def _pop(self, original_node: cst.CSTNode) -> None:
        self._chain.pop()

    visit_IndentedBlock = visit_SimpleStatementSuite = visit_If = _push
    visit_Try = visit_TryStar = visit_ExceptHandler = visit_ExceptStarHandler = _push
    leave_IndentedBlock = leave_SimpleStatementSuite = leave_If = _pop
    leave_Try = leave_TryStar = leave_ExceptHandler = leave_ExceptStarHandler = _pop

    def _tick(self) -> int:
        """Visiting order of the recorded nodes: enough to say what comes before what."""
        self._order += 1
        return self._order

    def _ancestors(self) -> tuple[cst.CSTNode, ...]:
        """Enclosing tracked nodes, outermost first, from the current function down."""
        return tuple(self._chain[self._function_depth[-1] :])

    # -- scopes -------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        facts = ClassFacts(node=node, name=node.name.value)
        self.classes.append(facts)
        self._scopes.append(facts)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owner = self._scopes[-1] if self._scopes else None
        if _is_static(node):  # no instance: its first parameter is a request's, not `self`
            owner = None
        params = node.params
        plist = [*params.posonly_params, *params.params, *params.kwonly_params]
        names = [p.name.value for p in plist]
        facts = FunctionFacts(
            node=node,
            name=node.name.value,
            params=names,
            owner=owner if isinstance(owner, ClassFacts) else None,
        )
        if facts.owner is not None:
            facts.owner.methods.append(facts)
        facts.thread_reads.extend(
            ThreadRead(p, self._tick())
            for p in plist
            if matches(p.name.value, self.config.thread_names)
        )
        self.functions.append(facts)
        self._scopes.append(facts)
        self._chain.append(node)
        self._function_depth.append(len(self._chain) - 1)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()
        self._chain.pop()
        self._function_depth.pop()

    def _function(self) -> FunctionFacts | None:
        top = self._scopes[-1] if self._scopes else None
        return top if isinstance(top, FunctionFacts) else None

    def _method(self) -> FunctionFacts | None:
        """The innermost enclosing method (closures inside a method count as that method)."""
        for scope in reversed(self._scopes):
            if isinstance(scope, ClassFacts):
                return None
            if scope.owner is not None:
                return scope
        return None

    # -- assignments --------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._assign(target.target, node.value, node)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._close(original_node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._assign(node.target, node.value, node)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._close(original_node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._assign(node.target, node.value, node)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._close(original_node)

    def _close(self, stmt: cst.CSTNode) -> None:
        """An assignment takes effect after its value is computed: record where it ends."""
        function = self._function()
        if function is None:
            return
        for assignment in reversed(function.assignments):
            if assignment.stmt is not stmt:
                break
            assignment.end = self._tick()

    def _assign(
        self, target: cst.BaseExpression, value: cst.BaseExpression, stmt: cst.CSTNode
    ) -> None:
        if isinstance(target, cst.Tuple | cst.List):
            values = value.elements if isinstance(value, cst.Tuple | cst.List) else None
            for i, element in enumerate(target.elements):
                if values is not None and len(values) == len(target.elements):
                    self._assign(element.value, values[i].value, stmt)
                else:
                    self._assign(element.value, value, stmt)
            return
        key = value_key(target)
        function = self._function()
        if key is None or function is None:
            return
        function.assignments.append(
            Assignment(key, value, stmt, self._tick(), 0, self._ancestors())
        )
        self._record_self_write(target, value)

    def _record_self_write(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        method = self._method()
        if method is None or method.owner is None or not method.params:
            return
        if (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == method.params[0]
        ):
            self._stores.add(id(target))
            method.owner.writes.append(SelfWrite(target.attr.value, target, value, method))

    # -- reads and calls ----------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        method = self._method()
        if (
            method is not None
            and method.owner is not None
            and method.params
            and isinstance(node.value, cst.Name)
            and node.value.value == method.params[0]
        ):
            if id(node) not in self._stores:
                method.owner.reads.setdefault(node.attr.value, set()).add(method.name)
            return
        function = self._function()
        if function is not None and matches(node.attr.value, self.config.thread_names):
            self._thread_read(function, node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        function = self._function()
        if function is None or len(node.slice) != 1:
            return
        index = node.slice[0].slice
        if isinstance(index, cst.Index):
            key = string_value(index.value)
            if key is not None and matches(key, self.config.thread_names):
                self._thread_read(function, node)

    def visit_Call(self, node: cst.Call) -> None:
        function = self._function()
        if function is None:
            return
        name = resolve(callee_name(node), self.aliases)
        if matches(name, self.config.getters):
            function.getter_calls.append(GetterCall(node, name, self._tick(), self._ancestors()))
        if (
            name.endswith(".setdefault")
            and len(node.args) == 2
            and isinstance(node.func, cst.Attribute)
        ):
            key = item_key_of(node.func.value, node.args[0].value)
            if key is not None:
                tick = self._tick()
                stored = Assignment(
                    key, node.args[1].value, node, tick, tick, self._ancestors(), True
                )
                function.assignments.append(stored)
        if name.endswith((".get", ".pop")) or name == "getattr":
            index = 1 if name == "getattr" else 0
            if len(node.args) > index:
                key = string_value(node.args[index].value)
                if key is not None and matches(key, self.config.thread_names):
                    self._thread_read(function, node)

    def _thread_read(self, function: FunctionFacts, node: cst.CSTNode) -> None:
        function.thread_reads.append(ThreadRead(node, self._tick()))

    def visit_Return(self, node: cst.Return) -> None:
        function = self._function()
        if function is not None and node.value is not None:
            function.returns.append(node.value)


def _is_static(node: cst.FunctionDef) -> bool:
    """A `@staticmethod` (or `@builtins.staticmethod`)."""
    for decorator in node.decorators:
        name = decorator.decorator
        if isinstance(name, cst.Name) and name.value == "staticmethod":
            return True
        if isinstance(name, cst.Attribute) and name.attr.value == "staticmethod":
            return True
    return False
