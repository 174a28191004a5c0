"""The rules QC001-QC004 over the facts `visitors.Collector` gathers from one module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from auditor.lint.config import LintConfig, matches
from auditor.lint.exprs import (
    Patterns,
    dotted_name,
    find_fallback,
    is_mint,
    last_segment,
    mentions,
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
    """Where a minted value comes from: its line, whether it is on an error path, its fix."""

    kind: DefKind
    line: int
    error_path: bool
    fix: FixPlan | None


@dataclass(frozen=True, slots=True)
class Analysis:
    """Findings of one module, and the fix plans of the fixable QC001 findings."""

    findings: tuple[Finding, ...]
    fixes: Mapping[Finding, tuple[FixPlan, ...]]


def analyze_module(wrapper: MetadataWrapper, path: str, config: LintConfig) -> Analysis:
    """Run the enabled rules over one parsed module."""
    collector = Collector(config)
    wrapper.visit(collector)
    checker = _Checker(wrapper, path, config, collector.functions)
    findings: list[Finding] = []
    fixes: dict[Finding, tuple[FixPlan, ...]] = {}
    enabled = config.enabled
    if enabled & {Code.QC001, Code.QC003, Code.QC004}:
        for function in collector.functions:
            if matches(function.name, config.new_thread_functions):
                continue  # minting there starts a genuinely new thread
            for call in function.getter_calls:
                for finding, plans in checker.check_call(function, call):
                    if finding.code in enabled:
                        findings.append(finding)
                        if plans:
                            fixes[finding] = plans
    if Code.QC002 in enabled:
        findings.extend(shared_state_findings(collector.classes, config, path, checker.position))
    return Analysis(tuple(sorted(findings, key=Finding.sort_key)), fixes)


def _short(name: str) -> str:
    return last_segment(name) + "()"


def _join(labels: Sequence[str]) -> str:
    unique = list(dict.fromkeys(labels))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " and " + unique[-1]


class _Checker:
    def __init__(
        self,
        wrapper: MetadataWrapper,
        path: str,
        config: LintConfig,
        functions: list[FunctionFacts],
    ) -> None:
        self.wrapper = wrapper
        self.path = path
        self.config = config
        self.positions = wrapper.resolve(PositionProvider)
        self.parents = wrapper.resolve(ParentNodeProvider)
        base = Patterns(config.generators, config.id_prefixes)
        minting = frozenset(f.name for f in functions if any(is_mint(r, base) for r in f.returns))
        self.patterns = Patterns(config.generators, config.id_prefixes, minting)
        fallback = frozenset(f.name for f in functions if self._returns_fallback(f))
        self.patterns = Patterns(config.generators, config.id_prefixes, minting, fallback)
        self._kinds: dict[int, Source] = {}

    def position(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """1-based line and column of a node's start and end."""
        span = self.positions[node]
        return (span.start.line, span.start.column + 1, span.end.line, span.end.column + 1)

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

    # -- ancestry -----------------------------------------------------------------------
    def _ancestors(self, node: cst.CSTNode, stop: cst.CSTNode) -> list[cst.CSTNode]:
        chain: list[cst.CSTNode] = []
        current = node
        while current is not stop:
            current = self.parents[current]
            chain.append(current)
        return chain

    def _in_error_path(self, function: FunctionFacts, node: cst.CSTNode) -> bool:
        if matches(function.name, self.config.error_handlers):
            return True
        return any(isinstance(a, cst.ExceptHandler) for a in self._ancestors(node, function.node))

    # -- where a value comes from ---------------------------------------------------------
    def _classify(self, function: FunctionFacts, assignment: Assignment) -> Source:
        cached = self._kinds.get(id(assignment))
        if cached is not None:
            return cached
        line = assignment.start[0]
        error_path = self._in_error_path(function, assignment.stmt)
        fallback = find_fallback(assignment.value, self.patterns)
        if fallback is not None:
            fix = ReplaceExpr(fallback.node, fallback.keep) if fallback.keep is not None else None
            source = Source(DefKind.FALLBACK, line, error_path, fix)
        elif is_mint(assignment.value, self.patterns):
            source = self._guarded_mint(function, assignment.stmt, assignment.key, line, error_path)
        else:
            source = Source(DefKind.PLAIN, line, error_path, None)
        self._kinds[id(assignment)] = source
        return source

    def _guarded_mint(
        self, function: FunctionFacts, node: cst.CSTNode, key: str, line: int, error_path: bool
    ) -> Source:
        """A mint under `if not <key>` (or in `except KeyError` around reading it) is a
        fallback; anywhere else it is a deliberate new ID."""
        for ancestor in self._ancestors(node, function.node):
            if isinstance(ancestor, cst.If) and mentions(ancestor.test, key):
                return Source(DefKind.FALLBACK, line, error_path, self._removal(ancestor))
            if isinstance(ancestor, cst.ExceptHandler):
                try_node = self.parents[ancestor]
                if isinstance(try_node, cst.Try) and _reads_only(try_node.body, key):
                    return Source(DefKind.FALLBACK, line, error_path, None)
        return Source(DefKind.MINT, line, error_path, None)

    def _removal(self, node: cst.If) -> RemoveStatement | None:
        """`if not x: x = mint()` can go when its body only mints what its test checks,
        its test has no side effects, and its block keeps another statement."""
        if node.orelse is not None or not isinstance(node.body, cst.IndentedBlock):
            return None
        if not _pure(node.test):
            return None
        for line in node.body.body:
            if not isinstance(line, cst.SimpleStatementLine):
                return None
            for small in line.body:
                if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                    return None
                key = dotted_name(small.targets[0].target)
                if key is None or not mentions(node.test, key):
                    return None
                if not is_mint(small.value, self.patterns):
                    return None
        block = self.parents[node]
        body = getattr(block, "body", ())
        return RemoveStatement(node) if isinstance(body, Sequence) and len(body) > 1 else None

    def _reaching(self, function: FunctionFacts, key: str, call: GetterCall) -> list[Source]:
        """Minted values of `key` that can reach `call`: walk back over earlier assignments
        until one that runs unconditionally before the call."""
        ancestors = {id(a) for a in self._ancestors(call.call, function.node)}
        found: list[Source] = []
        for assignment in reversed(function.assignments):
            if assignment.key != key or assignment.end > call.start:
                continue
            source = self._classify(function, assignment)
            if source.kind is not DefKind.PLAIN:
                found.append(source)
            line = self.parents[assignment.stmt]
            if id(self.parents[line]) in ancestors:
                break
        return found

    # -- the rules ----------------------------------------------------------------------
    def check_call(
        self, function: FunctionFacts, call: GetterCall
    ) -> list[tuple[Finding, tuple[FixPlan, ...]]]:
        """QC001/QC004 (minted IDs into the getter) and QC003 (client thread dropped)."""
        results: list[tuple[Finding, tuple[FixPlan, ...]]] = []
        minted: dict[DefKind, list[tuple[str, Source]]] = {DefKind.FALLBACK: [], DefKind.MINT: []}
        call_on_error_path = self._in_error_path(function, call.call)
        for arg in call.call.args:
            label = self._id_label(arg)
            if label is None:
                continue
            for source in self._arg_sources(function, call, arg, label, call_on_error_path):
                if source.kind is DefKind.FALLBACK:
                    minted[DefKind.FALLBACK].append((label, source))
                elif source.error_path:
                    minted[DefKind.MINT].append((label, source))
        line, column, end_line, end_column = self.position(call.call)
        if minted[DefKind.FALLBACK]:
            labels = _join([label for label, _ in minted[DefKind.FALLBACK]])
            first = min(source.line for _, source in minted[DefKind.FALLBACK])
            fixes = [source.fix for _, source in minted[DefKind.FALLBACK]]
            plans = tuple(dict.fromkeys(fixes)) if all(fixes) else ()
            message = (
                f"{_short(call.name)} can receive a {labels} minted when the request has none "
                f"(line {first}): each such message opens an orphan thread; pass the incoming "
                "IDs or None through"
            )
            finding = Finding(
                self.path, line, column, Code.QC001, message, end_line, end_column, bool(plans)
            )
            results.append((finding, plans))  # type: ignore[arg-type]
        if minted[DefKind.MINT]:
            labels = _join([label for label, _ in minted[DefKind.MINT]])
            first = min(source.line for _, source in minted[DefKind.MINT])
            message = (
                f"{_short(call.name)} on an error path gets a new {labels} (line {first}): "
                "the error reply opens a new context; reuse the request's thread and run"
            )
            finding = Finding(self.path, line, column, Code.QC004, message, end_line, end_column)
            results.append((finding, ()))
        dropped = self._dropped_thread(function, call)
        if dropped is not None:
            results.append(
                (Finding(self.path, line, column, Code.QC003, dropped, end_line, end_column), ())
            )
        return results

    def _id_label(self, arg: cst.Arg) -> str | None:
        if arg.star:
            return None
        if arg.keyword is not None:
            name = arg.keyword.value
            ids = (*self.config.thread_names, *self.config.run_names)
            return name if matches(name, ids) else None
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
        line = self.position(value)[0]
        fallback = find_fallback(value, self.patterns)
        if fallback is not None:
            fix = ReplaceExpr(fallback.node, fallback.keep) if fallback.keep is not None else None
            return [Source(DefKind.FALLBACK, line, on_error_path, fix)]
        if is_mint(value, self.patterns):
            return [self._guarded_mint(function, call.call, label, line, on_error_path)]
        key = dotted_name(value)
        return self._reaching(function, key, call) if key is not None else []

    def _dropped_thread(self, function: FunctionFacts, call: GetterCall) -> str | None:
        reads = [r for r in function.thread_reads if r.start < call.start]
        if not reads:
            return None
        config = self.config
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
                elif key is None or not matches(key, (*config.run_names, "user_id", "*_user_id")):
                    return None  # a positional argument we cannot place: not sure
        if passed:
            return None
        if verdict is None:
            ids = (*config.run_names, "user_id", "*_user_id")
            named = [
                arg.keyword.value if arg.keyword is not None else dotted_name(arg.value) or ""
                for arg in call.call.args
            ]
            if not any(matches(name, ids) for name in named):
                return None
            verdict = "without a thread ID"
        read = reads[0]
        if isinstance(read.node, cst.Param):
            what = f"parameter {read.node.name.value}"
        else:
            what = self.wrapper.module.code_for_node(read.node).strip()
        return (
            f"{_short(call.name)} is called {verdict} while the client's thread ({what}, "
            f"line {read.start[0]}) is in scope: the reply lands in another thread; pass it through"
        )


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
