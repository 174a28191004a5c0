"""QC003 (client thread dropped before the context getter): tests auditor/lint/analysis.py."""

import pytest

from auditor.lint.config import LintConfig
from auditor.lint.runner import lint_source

from ._support import PRELUDE, check, expected, handler_class

POSITIVE = {
    "thread_id=None while payload thread_id is in scope": handler_class(
        """
        requested = payload["thread_id"]
        logger.info("report for %s", requested)
        context = await self.session_manager.get_execution_context(user_id, thread_id=None, run_id=None)  # expect: QC003
        return context
        """
    ),
    "getter called without the thread while a thread parameter exists": PRELUDE
    + (
        "\n\nasync def get_quality_metrics(session_manager, user_id, thread_id, run_id):\n"
        "    return await session_manager.get_execution_context(user_id, run_id=run_id)  # expect: QC003\n"
    ),
    "error handler drops the thread it was given": handler_class(
        """
        try:
            return await self.manager.report(payload.get("thread_id"))
        except TimeoutError as exc:
            return await self._handle_report_error(user_id, payload, exc)
        """,
        """
        async def _handle_report_error(self, user_id, payload, exc):
            logger.warning("report failed in %s", payload.get("thread_id"))
            context = await self.session_manager.get_execution_context(user_id)  # expect: QC003
            await self.manager.send(user_id, {"type": "error", "thread_id": context.thread_id})
        """,
    ),
}

NEGATIVE = {
    "thread passed through": handler_class(
        """
        return await self.session_manager.get_execution_context(user_id, thread_id=payload.get("thread_id"))
        """
    ),
    "no thread in scope: the session manager resolves the active one": handler_class(
        """
        return await self.session_manager.get_execution_context(user_id, thread_id=None, run_id=None)
        """
    ),
    "positional arguments that cannot be placed": handler_class(
        """
        tid = payload["thread_id"]
        return await self.session_manager.get_execution_context(user_id, tid, None)
        """
    ),
    "thread read only after the call": handler_class(
        """
        context = await self.session_manager.get_execution_context(user_id, thread_id=None)
        return context.thread_id == payload.get("thread_id")
        """
    ),
    "create_thread handler starts without a thread": handler_class(
        """
        return await self.handle_create_thread(user_id, payload)
        """,
        """
        async def handle_create_thread(self, user_id, payload):
            logger.info("client proposed %s", payload.get("thread_id"))
            return await self.session_manager.get_execution_context(user_id, thread_id=None)
        """,
    ),
}


@pytest.mark.parametrize("source", POSITIVE.values(), ids=POSITIVE.keys())
def test_qc003_flags_a_dropped_client_thread(source):
    assert [item for item in check(source) if item[0] == "QC003"] == expected(source)


@pytest.mark.parametrize("source", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_qc003_leaves_look_alikes_alone(source):
    assert [item for item in check(source) if item[0] == "QC003"] == []


def test_qc003_message_quotes_the_read():
    source = POSITIVE["thread_id=None while payload thread_id is in scope"]
    (finding,) = lint_source(source, "h.py", LintConfig()).findings
    read_line = next(i for i, t in enumerate(source.splitlines(), 1) if 'payload["thread_id"]' in t)
    assert finding.message == (
        "get_execution_context() is called with thread_id=None while the client's thread "
        f'(payload["thread_id"], line {read_line}) is in scope: the reply lands in another '
        "thread; pass it through"
    )


def test_a_staticmethods_first_parameter_is_the_request_not_self():
    """In a `@staticmethod` the first parameter is no instance: `message.thread_id` is the
    client's thread (it was taken for `self.thread_id` and the call went unflagged)."""
    source = (
        "class QualityHandlers:\n"
        "    @staticmethod\n"
        "    async def handle_get_quality_metrics(message, session_manager):\n"
        "        requested = message.thread_id\n"
        "        context = await session_manager.get_execution_context(\n"
        "            message.user_id, thread_id=None\n"
        "        )\n"
        "        return context, requested\n"
    )
    codes = [f.code.value for f in lint_source(source, "h.py", LintConfig()).findings]
    assert codes == ["QC003"]
