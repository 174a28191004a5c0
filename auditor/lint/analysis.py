"""The rules QC001-QC004 over the facts `visitors.Collector` gathers from one module."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from auditor.lint.config import LintConfig, matches
from auditor.lint.exprs import (
    Patterns,
    dotted_name,
    find_fallback,
    is_mint,
    item_base,
    last_segment,
    mentions,
    mentions_any,
    true_when_missing,
    value_key,
    walk,
)
from auditor.lint.qc002 import shared_state_findings
from auditor.lint.rules import Code, Finding
from auditor.lint.visitors import Assignment, Collector, FunctionFacts, GetterCall


class DefKind(Enum):
    """What an assignment gives its target: an incoming value, a fresh ID, or a fallback."""

    PLAIN = "plain"
    MINT = "mint"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class ReplaceExpr:
    """Fix: put `keep` (the incoming value) where the fallback expression `node` was."""

    node: cst.CSTNode
    keep: cst.BaseExpression


@dataclass(frozen=True, slots=True)
class RemoveStatement:
    """Fix: delete an `if not thread_id: thread_id = mint()` statement."""

    node: cst.CSTNode


FixPlan = ReplaceExpr | RemoveStatement


@dataclass(frozen=True, slots=True)
class Source:
    """Where a minted value comes from: its node, whether it is on an error path, its fix."""

    kind: DefKind
    node: cst.CSTNode
    error_path: bool
    fix: FixPlan | None


@dataclass(frozen=True, slots=True)
class Analysis:
    """Findings of one module, and the fix plans of the fixable QC001 findings."""

    findings: tuple[Finding, ...]
    fixes: Mapping[Finding, tuple[FixPlan, ...]]


#: Turns a node into its 1-based start line (positions are resolved only when needed).
LineOf = Callable[[cst.CSTNode], int]


@dataclass(frozen=True, slots=True)
class Pending:
    """A finding before positions are known: its anchor node and a message builder."""

    code: Code
    anchor: cst.CSTNode
    message: Callable[[LineOf], str]
    plans: tuple[FixPlan, ...] = ()
    fixable: bool = False


def analyze_module(wrapper: MetadataWrapper, path: str, config: LintConfig) -> Analysis:
    """Run the enabled rules over one parsed module (`wrapper.module` is what is visited, so
    fix plans refer to its nodes)."""
    collector = Collector(config)
    wrapper.module.visit(collector)
    checker = _Checker(config, collector.functions, collector.aliases)
    pending: list[Pending] = []
    enabled = config.enabled
    if enabled & {Code.QC001, Code.QC003, Code.QC004}:
        for function in collector.functions:
            if matches(function.name, config.new_thread_functions):
                continue  # minting there starts a genuinely new thread
            for call in function.getter_calls:
                pending.extend(p for p in checker.check_call(function, call) if p.code in enabled)
    if Code.QC002 in enabled:
        for write, text in shared_state_findings(collector.classes, config):
            pending.append(Pending(Code.QC002, write.target, _constant(text)))
    if not pending:
        return Analysis((), {})
    positions = wrapper.resolve(PositionProvider)

    def line_of(node: cst.CSTNode) -> int:
        return positions[node].start.line

    findings: list[Finding] = []
    fixes: dict[Finding, tuple[FixPlan, ...]] = {}
    for item in pending:
        span = positions[item.anchor]
        finding = Finding(
            path,
            span.start.line,
            span.start.column + 1,
            item.code,
            item.message(line_of),
            span.end.line,
            span.end.column + 1,
            item.fixable,
        )
        findings.append(finding)
        if item.plans:
            fixes[finding] = item.plans
    return Analysis(tuple(sorted(findings, key=Finding.sort_key)), fixes)


def _constant(text: str) -> Callable[[LineOf], str]:
    return lambda _line_of: text


def _short(name: str) -> str:
    return last_segment(name) + "()"


def _join(labels: Sequence[str]) -> str:
    unique = list(dict.fromkeys(labels))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


class _Checker:
    def __init__(
        self, config: LintConfig, functions: list[FunctionFacts], aliases: Mapping[str, str]
    ) -> None:
        self.config = config
        base = Patterns(config.generators, config.id_prefixes, aliases=aliases)
        minting = frozenset(f.name for f in functions if any(is_mint(r, base) for r in f.returns))
        self.patterns = replace(base, minting_helpers=minting)
        fallback = frozenset(f.name for f in functions if self._returns_fallback(f))
        self.patterns = replace(self.patterns, fallback_helpers=fallback)
        self._kinds: dict[int, Source] = {}
        self.id_names = (*config.thread_names, *config.run_names)

    def _returns_fallback(self, function: FunctionFacts) -> bool:
        for value in function.returns:
            if find_fallback(value, self.patterns) is not None:
                return True
            key = dotted_name(value)
            if key is not None and any(
                a.key == key and find_fallback(a.value, self.patterns) for a in function.assignments
            ):
                return True
        return False

    def _in_error_path(self, function: FunctionFacts, chain: Sequence[cst.CSTNode]) -> bool:
        if matches(function.name, self.config.error_handlers):
            return True
        return any(isinstance(a, cst.ExceptHandler | cst.ExceptStarHandler) for a in chain)

    # -- where a value comes from ---------------------------------------------------------
    def _classify(self, function: FunctionFacts, assignment: Assignment) -> Source:
        cached = self._kinds.get(id(assignment))
        if cached is not None:
            return cached
        chain = assignment.ancestors
        error_path = self._in_error_path(function, chain)
        fallback = find_fallback(assignment.value, self.patterns)
        if fallback is not None:
            # an item keeps its fallback's fix out: storing None would make
            # `"thread_id" in payload` true where the key was missing
            keep = fallback.keep if item_base(assignment.key) is None else None
            fix = ReplaceExpr(fallback.node, keep) if keep is not None else None
            source = Source(DefKind.FALLBACK, assignment.stmt, error_path, fix)
        elif assignment.if_missing and is_mint(assignment.value, self.patterns):
            source = Source(DefKind.FALLBACK, assignment.stmt, error_path, None)
        elif is_mint(assignment.value, self.patterns):
            chain, node, key = assignment.ancestors, assignment.stmt, assignment.key
            source = self._guarded_mint(chain, node, key, error_path, (function, assignment.start))
        else:
            source = Source(DefKind.PLAIN, assignment.stmt, error_path, None)
        self._kinds[id(assignment)] = source
        return source

    def _guarded_mint(
        self,
        chain: Sequence[cst.CSTNode],
        node: cst.CSTNode,
        key: str,
        error_path: bool,
        assigned: tuple[FunctionFacts, int] | None = None,
    ) -> Source:
        """A mint under `if not <key>` (or in `except KeyError` around reading it) is a
        fallback; anywhere else it is a deliberate new ID. ``assigned``: the function and
        when the mint's assignment was visited (an `if` holding one may be removed)."""
        for index in range(len(chain) - 1, 0, -1):
            ancestor = chain[index]
            branch = chain[index + 1] if index + 1 < len(chain) else None
            if isinstance(ancestor, cst.If) and self._guards_missing(ancestor, branch, key):
                fix = self._removal(ancestor, chain[index - 1], *assigned) if assigned else None
                return Source(DefKind.FALLBACK, node, error_path, fix)
            if isinstance(ancestor, cst.ExceptHandler):
                try_node = chain[index - 1]
                if isinstance(try_node, cst.Try) and _reads_only(try_node.body, key):
                    return Source(DefKind.FALLBACK, node, error_path, None)
        return Source(DefKind.MINT, node, error_path, None)

    def _guards_missing(self, node: cst.If, branch: cst.CSTNode | None, key: str) -> bool:
        """Whether the branch of ``node`` that holds a mint runs only when an ID is missing:
        the body of `if not x:` / `if x is None:` / `if "thread_id" not in payload:`, the
        `else` of `if x:`. A test of the ID's presence (`if thread_id: run_id = new()`, a
        new run in the client's thread) or of something else (`if x and "_" not in x:`, a
        normalization) guards no fallback."""

        def refers(found: cst.CSTNode) -> bool:
            return mentions(found, key) or mentions_any(found, self.id_names)

        if branch is None or not refers(node.test):
            return False
        missing = true_when_missing(node.test, refers)
        if branch is node.body:
            return missing is True
        orelse = node.orelse  # `else:` (its block is the branch), or an `elif`
        runs_when_false = orelse is not None and branch in (orelse, orelse.body)
        return runs_when_false and missing is False

    def _removal(
        self, node: cst.If, block: cst.CSTNode, function: FunctionFacts, inside: int
    ) -> RemoveStatement | None:
        """`if not x: x = mint()` can go when its body only mints what its test checks,
        its test has no side effects, its block keeps another statement, and what it
        assigns is bound before it in that block (else removing it leaves the name unbound
        when the request has no ID: `if "k" in p: x = p["k"]`, `if "k" not in p: x = new()`).
        ``inside`` is when an assignment inside ``node`` was visited."""
        if node.orelse is not None or not isinstance(node.body, cst.IndentedBlock):
            return None
        if not _pure(node.test) or not isinstance(block, cst.IndentedBlock):
            return None
        for line in node.body.body:
            if not isinstance(line, cst.SimpleStatementLine):
                return None
            for small in line.body:
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                    return None
                target = dotted_name(small.targets[0].target)
                if target is None or not mentions(node.test, target):
                    return None
                if not is_mint(small.value, self.patterns):
                    return None
                bound = (  # an unconditional assignment of the block, visited before the `if`
                    a.key == target and a.ancestors[-1] is block and a.end < inside
                    for a in function.assignments
                )
                if not any(bound):
                    return None
        return RemoveStatement(node) if len(block.body) > 1 else None

    def _reaching(self, function: FunctionFacts, key: str, call: GetterCall) -> list[Source]:
        """Minted values of `key` that can reach `call`: walk back over earlier assignments
        until one that runs unconditionally before the call (its block encloses the call)."""
        enclosing = {id(a) for a in call.ancestors}
        base = item_base(key)  # an item's container rebound holds new items
        found: list[Source] = []
        for assignment in reversed(function.assignments):
            if assignment.end > call.start:
                continue
            if base is not None and assignment.key == base:
                if id(assignment.ancestors[-1]) in enclosing:
                    break
                continue
            if assignment.key != key:
                continue
            source = self._classify(function, assignment)
            if source.kind is not DefKind.PLAIN:
                found.append(source)
            if id(assignment.ancestors[-1]) in enclosing:
                break
        return found

    # -- the rules ----------------------------------------------------------------------
    def check_call(self, function: FunctionFacts, call: GetterCall) -> list[Pending]:
        """QC001/QC004 (minted IDs into the getter) and QC003 (client thread dropped)."""
        results: list[Pending] = []
        fallback: list[tuple[str, Source]] = []
        minted: list[tuple[str, Source]] = []
        on_error_path = self._in_error_path(function, call.ancestors)
        for arg in call.call.args:
            label = self._id_label(arg)
            if label is None:
                continue
            for source in self._arg_sources(function, call, arg, label, on_error_path):
                if source.kind is DefKind.FALLBACK:
                    fallback.append((label, source))
                elif source.error_path:
                    minted.append((label, source))
        short = _short(call.name)
        if fallback:
            labels = _join([label for label, _ in fallback])
            nodes = [source.node for _, source in fallback]
            fixes = [source.fix for _, source in fallback]
            plans = tuple(dict.fromkeys(f for f in fixes if f is not None))
            fixable = all(f is not None for f in fixes)

            def qc001(line_of: LineOf) -> str:
                first = min(line_of(n) for n in nodes)
                return (
                    f"{short} can receive a minted {labels} when the request has none "
                    f"(line {first}): each such message opens an orphan thread; pass the "
                    "incoming IDs or None through"
                )

            results.append(Pending(Code.QC001, call.call, qc001, plans if fixable else (), fixable))
        if minted:
            new_labels = _join([label for label, _ in minted])
            new_nodes = [source.node for _, source in minted]

            def qc004(line_of: LineOf) -> str:
                first = min(line_of(n) for n in new_nodes)
                return (
                    f"{short} on an error path gets a new {new_labels} (line {first}): the error "
                    "reply opens a new context; reuse the request's thread and run"
                )

            results.append(Pending(Code.QC004, call.call, qc004))
        dropped = self._dropped_thread(function, call)
        if dropped is not None:
            results.append(dropped)
        return results

    def _id_label(self, arg: cst.Arg) -> str | None:
        if arg.star:
            return None
        if arg.keyword is not None:
            name = arg.keyword.value
            return name if matches(name, self.id_names) else None
        key = dotted_name(arg.value)
        return last_segment(key) if key is not None else "ID"

    def _arg_sources(
        self,
        function: FunctionFacts,
        call: GetterCall,
        arg: cst.Arg,
        label: str,
        on_error_path: bool,
    ) -> list[Source]:
        value = arg.value
        fallback = find_fallback(value, self.patterns)
        if fallback is not None:
            fix = ReplaceExpr(fallback.node, fallback.keep) if fallback.keep is not None else None
            return [Source(DefKind.FALLBACK, value, on_error_path, fix)]
        if is_mint(value, self.patterns):
            chain = (*call.ancestors, call.call)
            return [self._guarded_mint(chain, value, label, on_error_path)]
        key = value_key(value)
        return self._reaching(function, key, call) if key is not None else []

    def _dropped_thread(self, function: FunctionFacts, call: GetterCall) -> Pending | None:
        reads = [r for r in function.thread_reads if r.start < call.start]
        if not reads:
            return None
        config = self.config
        ids = (*config.run_names, "user_id", "*_user_id")
        verdict: str | None = None
        passed = False
        for arg in call.call.args:
            if arg.star:
                return None  # **kwargs may carry the thread: not sure
            if arg.keyword is not None and matches(arg.keyword.value, config.thread_names):
                value = arg.value
                if isinstance(value, cst.Name) and value.value == "None":
                    verdict = f"with {arg.keyword.value}=None"
                else:
                    passed = True
            elif arg.keyword is None:
                key = dotted_name(arg.value)
                if key is not None and matches(key, config.thread_names):
                    passed = True
                elif key is None or not matches(key, ids):
                    return None  # a positional argument we cannot place: not sure
        if passed:
            return None
        if verdict is None:
            named = [
                arg.keyword.value if arg.keyword is not None else dotted_name(arg.value) or ""
                for arg in call.call.args
            ]
            if not any(matches(name, ids) for name in named):
                return None
            verdict = "without a thread ID"
        read = reads[0].node
        if isinstance(read, cst.Param):
            what = f"parameter {read.name.value}"
        else:
            what = cst.Module([]).code_for_node(read).strip()
        short = _short(call.name)

        def qc003(line_of: LineOf) -> str:
            return (
                f"{short} is called {verdict} while the client's thread ({what}, line "
                f"{line_of(read)}) is in scope: the reply lands in another thread; pass it through"
            )

        return Pending(Code.QC003, call.call, qc003)


def _reads_only(body: cst.BaseSuite, key: str) -> bool:
    """A `try` body that only assigns (`x = payload["x"]`), where KeyError means "missing"."""
    if not isinstance(body, cst.IndentedBlock):
        return False
    lines = body.body
    return all(
        isinstance(line, cst.SimpleStatementLine)
        and all(isinstance(s, cst.Assign | cst.AnnAssign) for s in line.body)
        for line in lines
    ) and any(mentions(line, key) for line in lines)


def _pure(test: cst.BaseExpression) -> bool:
    """No calls other than `.get()`, no walrus, no await: removing the test changes nothing."""
    for node in walk(test):
        if isinstance(node, cst.NamedExpr | cst.Await | cst.Yield):
            return False
        if isinstance(node, cst.Call):
            func = node.func
            if not (isinstance(func, cst.Attribute) and func.attr.value == "get"):
                return False
    return True
