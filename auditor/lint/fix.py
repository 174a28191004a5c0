"""`--fix` for QC001: remove the minting fallback, keep the incoming value, drop dead imports.

The rewrite works on the libcst tree, so every byte it does not touch (formatting,
comments, quotes) comes back unchanged. It only applies plans the analysis marked as
certain (`ReplaceExpr`, `RemoveStatement`); anything else is reported, not rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import libcst as cst
from libcst import CSTNodeT
from libcst.metadata import MetadataWrapper, ScopeProvider

from auditor.lint.analysis import FixPlan, RemoveStatement, ReplaceExpr


def apply_fixes(wrapper: MetadataWrapper, plans: Iterable[FixPlan]) -> cst.Module:
    """The module with the plans applied and the imports they left unused removed."""
    plans = list(plans)
    replace = {id(p.node): p.keep for p in plans if isinstance(p, ReplaceExpr)}
    remove = {id(p.node) for p in plans if isinstance(p, RemoveStatement)}
    before = _used_imports(wrapper)
    fixed = wrapper.module.visit(_Rewriter(replace, remove))
    after_wrapper = MetadataWrapper(fixed, unsafe_skip_copy=True)
    now_unused = before & _unused_imports(after_wrapper)
    if not now_unused:
        return fixed
    return after_wrapper.module.visit(_ImportPruner(now_unused))


class _Rewriter(cst.CSTTransformer):
    def __init__(self, replace: dict[int, cst.BaseExpression], remove: set[int]) -> None:
        super().__init__()
        self.replace = replace
        self.remove = remove

    def on_leave(
        self, original_node: CSTNodeT, updated_node: CSTNodeT
    ) -> CSTNodeT | cst.RemovalSentinel | cst.FlattenSentinel[CSTNodeT]:
        keep = self.replace.get(id(original_node))
        if keep is not None:
            return keep  # type: ignore[return-value]
        updated = super().on_leave(original_node, updated_node)
        if isinstance(original_node, cst.IndentedBlock | cst.Module) and self.remove:
            return _drop(original_node, updated, self.remove)
        return updated


def _drop(original: cst.CSTNode, updated: Any, remove: set[int]) -> Any:
    """Drop statements by identity. Their leading blank lines and own-line comments move to
    the next statement, so comments survive and blank-line grouping stays as it was."""
    assert isinstance(original, cst.IndentedBlock | cst.Module)
    kept: list[Any] = []
    carried: list[cst.EmptyLine] = []
    changed = False
    for old, new in zip(original.body, updated.body, strict=True):
        if id(old) in remove:
            carried.extend(getattr(old, "leading_lines", ()))
            changed = True
            continue
        if changed and (carried or not kept):
            lines = _merge(carried, list(new.leading_lines), first=not kept)
            new = new.with_changes(leading_lines=lines)
            carried = []
        kept.append(new)
    if not changed or (not kept and isinstance(original, cst.IndentedBlock)):
        return updated  # an emptied block would not parse: leave it as it was
    return updated.with_changes(body=kept)


def _blank_run(lines: Sequence[cst.EmptyLine]) -> int:
    count = 0
    for line in lines:
        if line.comment is not None:
            break
        count += 1
    return count


def _merge(
    carried: list[cst.EmptyLine], own: list[cst.EmptyLine], first: bool
) -> list[cst.EmptyLine]:
    tail = _blank_run(carried[::-1])
    head = _blank_run(own)
    blanks = carried[len(carried) - tail :] if tail >= head else own[:head]
    merged = [*carried[: len(carried) - tail], *blanks, *own[head:]]
    if first:  # nothing above any more: no blank lines before the first statement
        merged = merged[_blank_run(merged) :]
    return merged


def _import_assignments(wrapper: MetadataWrapper) -> Iterable[tuple[str, int]]:
    scopes = {id(s): s for s in wrapper.resolve(ScopeProvider).values() if s is not None}
    for scope in scopes.values():
        for assignment in scope.assignments:
            node = getattr(assignment, "node", None)
            if isinstance(node, cst.Import | cst.ImportFrom) and "." not in assignment.name:
                yield assignment.name, len(assignment.references)


def _used_imports(wrapper: MetadataWrapper) -> set[str]:
    return {name for name, refs in _import_assignments(wrapper) if refs}


def _unused_imports(wrapper: MetadataWrapper) -> set[str]:
    counts: dict[str, list[int]] = {}
    for name, refs in _import_assignments(wrapper):
        counts.setdefault(name, []).append(refs)
    code = wrapper.module.code
    return {
        name
        for name, refs in counts.items()
        # one binding only (not sure which of two to drop), not re-exported through __all__
        if refs == [0] and f'"{name}"' not in code and f"'{name}'" not in code
    }


class _ImportPruner(cst.CSTTransformer):
    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.emptied: set[int] = set()
        self.drop_lines: set[int] = set()

    def _bound(self, alias: cst.ImportAlias) -> str:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            return alias.asname.name.value
        return cst.helpers.get_full_name_for_node(alias.name) or ""

    def _prune(self, original: Any, updated: Any) -> Any:
        if isinstance(updated.names, cst.ImportStar):
            return updated
        names: Sequence[cst.ImportAlias] = updated.names
        kept = [alias for alias in names if self._bound(alias) not in self.names]
        if len(kept) == len(names):
            return updated
        if not kept:
            self.emptied.add(id(original))
            return updated
        trailing = names[-1].comma
        kept[-1] = kept[-1].with_changes(
            comma=trailing if getattr(updated, "lpar", None) else cst.MaybeSentinel.DEFAULT
        )
        return updated.with_changes(names=kept)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        return self._prune(original_node, updated_node)

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        return self._prune(original_node, updated_node)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine:
        pairs = zip(original_node.body, updated_node.body, strict=True)
        body = [new for old, new in pairs if id(old) not in self.emptied]
        if len(body) == len(updated_node.body):
            return updated_node
        if not body:
            self.drop_lines.add(id(original_node))
            return updated_node
        body[-1] = body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=body)

    def on_leave(
        self, original_node: CSTNodeT, updated_node: CSTNodeT
    ) -> CSTNodeT | cst.RemovalSentinel | cst.FlattenSentinel[CSTNodeT]:
        updated = super().on_leave(original_node, updated_node)
        if isinstance(original_node, cst.IndentedBlock | cst.Module) and self.drop_lines:
            return _drop(original_node, updated, self.drop_lines)
        return updated
