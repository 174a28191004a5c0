"""QC002 (per-request state on a shared handler instance): tests auditor/lint/qc002.py."""

import pytest

from auditor.lint.config import LintConfig
from auditor.lint.runner import lint_source

from ._support import PRELUDE, check, expected, handler_class

SEND = """
async def _send_quality_response(self, user_id, result):
    await self.manager.send(user_id, {"thread_id": self._current_thread_id, "result": result})
"""

POSITIVE = {
    "payload thread_id stored and read in _send_quality_response": handler_class(
        """
        self._current_thread_id = payload["thread_id"]  # expect: QC002
        await self._send_quality_response(user_id, {"ok": True})
        """,
        SEND,
    ),
    "local derived from the payload": handler_class(
        """
        thread_id = payload.get("thread_id")
        resolved = thread_id.strip()
        self._current_thread_id = resolved  # expect: QC002
        await self._send_quality_response(user_id, {"ok": True})
        """,
        SEND,
    ),
    "user id stored in a helper and read in an error handler": handler_class(
        """
        await self._remember(user_id)
        """,
        """
        async def _remember(self, user_id):
            self.current_user = user_id  # expect: QC002
        """,
        """
        async def _handle_quality_error(self, error):
            await self.manager.send(self.current_user, {"type": "error", "message": str(error)})
        """,
    ),
    "sync handler class": PRELUDE
    + (
        "\n\nclass ValidationHandler:\n"
        "    def handle(self, user_id, message):\n"
        "        self.content_type = message['content_type']  # expect: QC002\n"
        "        return self.validate()\n\n"
        "    def validate(self):\n"
        "        return self.content_type == 'report'\n"
    ),
}

NEGATIVE = {
    "per-request state kept in a local": handler_class(
        """
        thread_id = payload["thread_id"]
        await self._send_quality_response(user_id, {"thread_id": thread_id})
        """,
        """
        async def _send_quality_response(self, user_id, result):
            await self.manager.send(user_id, result)
        """,
    ),
    "per-request state kept in a contextvar": PRELUDE
    + (
        "\n\ncurrent_thread: ContextVar[str | None] = ContextVar('current_thread', default=None)\n\n\n"
        "class QualityReportHandler:\n"
        "    async def handle(self, user_id, payload):\n"
        "        current_thread.set(payload['thread_id'])\n"
        "        await self._send_report_response(user_id)\n\n"
        "    async def _send_report_response(self, user_id):\n"
        "        return current_thread.get()\n"
    ),
    "constructor arguments are configuration, not requests": handler_class(
        """
        await self.manager.send(user_id, {"alerts": self.session_manager.alerts(payload)})
        """
    ),
    "written and read in the same method only": handler_class(
        """
        self._last_payload = payload
        return self._last_payload.get("period_hours", 24)
        """
    ),
    "value that does not come from the request": handler_class(
        """
        self._handled += 1
        self._last_seen = logger.name
        await self._send_quality_response(user_id, {})
        """,
        """
        async def _send_quality_response(self, user_id, result):
            await self.manager.send(user_id, {"seen": self._last_seen, "n": self._handled})
        """,
    ),
    "per-user map keyed by user is shared on purpose": handler_class(
        """
        self._subscriptions[user_id] = payload.get("threshold", 0.7)
        """,
        """
        async def broadcast(self, alert):
            for user_id in self._subscriptions:
                await self.manager.send(user_id, alert)
        """,
    ),
    "class that serves no requests": PRELUDE
    + (
        "\n\nclass ReportBuilder:\n"
        "    def add(self, payload):\n"
        "        self.rows = payload['rows']\n\n"
        "    def render(self):\n"
        "        return len(self.rows)\n"
    ),
}


@pytest.mark.parametrize("source", POSITIVE.values(), ids=POSITIVE.keys())
def test_qc002_flags_request_state_on_the_instance(source):
    assert [item for item in check(source) if item[0] == "QC002"] == expected(source)


@pytest.mark.parametrize("source", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_qc002_leaves_look_alikes_alone(source):
    assert [item for item in check(source) if item[0] == "QC002"] == []


def test_qc002_message_names_writer_and_reader():
    source = POSITIVE["payload thread_id stored and read in _send_quality_response"]
    (finding,) = lint_source(source, "h.py", LintConfig()).findings
    assert finding.message == (
        "self._current_thread_id is set from the request in handle() and read in "
        "_send_quality_response(): one QualityMetricsHandler serves every user, so concurrent "
        "requests can get each other's value; pass it as an argument or use a ContextVar"
    )


def test_a_staticmethod_writes_to_its_argument_not_to_shared_state():
    """`ctx.thread_id = ...` in a `@staticmethod` writes to a per-request object (it was
    reported as `self.thread_id` on a handler that serves every user)."""
    source = (
        "class QualityHandlers:\n"
        "    @staticmethod\n"
        "    async def handle(ctx, payload):\n"
        "        ctx.thread_id = payload.get('thread_id')\n"
        "        await QualityHandlers._reply(ctx)\n"
        "\n"
        "    @staticmethod\n"
        "    async def _reply(ctx):\n"
        "        await ctx.send({'thread_id': ctx.thread_id})\n"
    )
    assert [f.code.value for f in lint_source(source, "h.py", LintConfig()).findings] == []
