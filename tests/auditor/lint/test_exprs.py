"""Expression predicates (auditor/lint/exprs.py): minting, fallbacks, conditions."""

import libcst as cst
import pytest

from auditor.lint.config import LintConfig
from auditor.lint.exprs import Patterns, callee_name, find_fallback, is_mint, mentions

CONFIG = LintConfig()
PATTERNS = Patterns(CONFIG.generators, CONFIG.id_prefixes, minting_helpers=frozenset({"_new_run"}))


def expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


@pytest.mark.parametrize(
    "code",
    [
        "generate_thread_id()",
        "ids.generate_run_id()",
        "uuid4()",
        "uuid.uuid4().hex",
        "str(uuid.uuid4())",
        "uuid.uuid4().hex[:8]",
        "secrets.token_hex(8)",
        "secrets.token_urlsafe(6).lower()",
        'f"thread_{int(time.time() * 1000)}_{n}"',
        'f"{uuid.uuid4()}"',
        '"run_" + secrets.token_hex(4)',
        "await self.ids.generate_thread_id()",
        "self._new_run()",
    ],
)
def test_minting_expressions(code):
    assert is_mint(expr(code), PATTERNS)


@pytest.mark.parametrize(
    "code",
    [
        'payload.get("thread_id")',
        "thread_id",
        'f"thread {thread_id}"',
        'f"thread_"',
        "len(str(uuid.uuid4()))",
        "self.session_manager.get_execution_context(thread_id=generate_thread_id())",
        "generate_video()",
    ],
)
def test_non_minting_expressions(code):
    assert not is_mint(expr(code), PATTERNS)


@pytest.mark.parametrize(
    ("code", "keep"),
    [
        ('payload.get("thread_id") or generate_thread_id()', 'payload.get("thread_id")'),
        ("a or b or uuid4().hex", "a or b"),
        ('(payload.get("run_id") or generate_run_id())', '(payload.get("run_id"))'),
        ('payload.get("thread_id", secrets.token_hex(8))', 'payload.get("thread_id")'),
        ('getattr(msg, "thread_id", uuid4())', 'getattr(msg, "thread_id", None)'),
        ('payload["t"] if "t" in payload else generate_thread_id()', None),
        ('str(payload.get("thread_id") or uuid4())', None),
    ],
)
def test_fallbacks_and_what_a_fix_keeps(code, keep):
    found = find_fallback(expr(code), PATTERNS)
    assert found is not None
    kept = None if found.keep is None else cst.Module([]).code_for_node(found.keep)
    assert kept == keep


@pytest.mark.parametrize(
    "code",
    [
        'payload.get("thread_id")',
        "generate_thread_id()",
        "generate_thread_id() or fallback",
        'payload.get("thread_id", "")',
        "generate_thread_id() if new else generate_run_id()",
    ],
)
def test_not_fallbacks(code):
    assert find_fallback(expr(code), PATTERNS) is None


@pytest.mark.parametrize(
    ("test", "key", "hit"),
    [
        ("not thread_id", "thread_id", True),
        ("self._thread_id is None", "self._thread_id", True),
        ('"thread_id" not in payload', "thread_id", True),
        ("not payload.get('thread_id')", "thread_id", True),
        ("not run_id", "thread_id", False),
        ('payload.get("fork")', "thread_id", False),
    ],
)
def test_mentions(test, key, hit):
    assert mentions(expr(test), key) is hit


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("f()", "f"),
        (
            "self.session_manager.get_execution_context()",
            "self.session_manager.get_execution_context",
        ),
        ("factory().get_context()", "?.get_context"),
        ("handlers[0]()", "?"),
    ],
)
def test_callee_name(code, name):
    call = expr(code)
    assert isinstance(call, cst.Call)
    assert callee_name(call) == name
