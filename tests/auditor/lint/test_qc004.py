"""QC004 (error path opens a new context): tests auditor/lint/analysis.py."""

import pytest

from auditor.lint.config import LintConfig
from auditor.lint.runner import lint_source

from ._support import check, expected, handler_class

POSITIVE = {
    "except block mints a new context inline": handler_class(
        """
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
        )
        try:
            report = await self.manager.generate_report(context, payload.get("report_type", "summary"))
        except Exception as exc:
            error_context = await self.session_manager.get_execution_context(  # expect: QC004
                user_id, thread_id=generate_thread_id(), run_id=generate_run_id()
            )
            await self.manager.send(user_id, {"type": "error", "message": str(exc), "thread_id": error_context.thread_id})
            return
        await self.manager.send(user_id, {"type": "quality_report_generated", "report": report})
        """
    ),
    "except block mints into locals first": handler_class(
        """
        try:
            return await self.manager.validate(payload["content"])
        except ValueError as exc:
            thread_id = f"thread_{uuid.uuid4().hex[:8]}"
            run_id = f"run_{uuid.uuid4().hex[:8]}"
            context = await self.session_manager.get_execution_context(thread_id=thread_id, run_id=run_id)  # expect: QC004
            await self.manager.send(user_id, {"type": "error", "message": str(exc), "thread_id": context.thread_id})
        """
    ),
    "_handle_*_error method builds a fresh context": handler_class(
        """
        try:
            return await self.manager.subscribe(user_id, payload)
        except Exception as exc:
            await self._handle_subscription_error(user_id, exc)
        """,
        """
        async def _handle_subscription_error(self, user_id, exc):
            context = await self.session_manager.get_execution_context(  # expect: QC004
                user_id, thread_id=secrets.token_hex(8)
            )
            await self.manager.send(user_id, {"type": "error", "code": "subscribe_failed", "thread_id": context.thread_id})
        """,
    ),
}

NEGATIVE = {
    "except block answers in the request's context": handler_class(
        """
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
        )
        try:
            return await self.manager.validate(payload["content"])
        except ValueError as exc:
            await self._handle_validation_error(user_id, context, exc)
        """,
        """
        async def _handle_validation_error(self, user_id, context, exc):
            same = await self.session_manager.get_execution_context(
                user_id, thread_id=context.thread_id, run_id=context.run_id
            )
            await self.manager.send(user_id, {"type": "error", "message": str(exc), "thread_id": same.thread_id})
        """,
    ),
    "except block mints only a request id for the log": handler_class(
        """
        try:
            return await self.manager.validate(payload["content"])
        except ValueError:
            incident = uuid.uuid4().hex
            logger.exception("validation failed", extra={"incident": incident})
            context = await self.session_manager.get_execution_context(
                user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
            )
            await self.manager.send(user_id, {"type": "error", "incident": incident, "thread_id": context.thread_id})
        """
    ),
}


@pytest.mark.parametrize("source", POSITIVE.values(), ids=POSITIVE.keys())
def test_qc004_flags_error_paths_that_mint(source):
    assert check(source) == expected(source)


@pytest.mark.parametrize("source", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_qc004_leaves_look_alikes_alone(source):
    assert check(source) == []


def test_qc004_is_reported_but_never_marked_fixable():
    source = POSITIVE["except block mints into locals first"]
    (finding,) = lint_source(source, "h.py", LintConfig()).findings
    assert finding.fixable is False
    assert finding.message.startswith(
        "get_execution_context() on an error path gets a new thread_id and run_id (line "
    )
