"""QC001 (minted-context fallback): tests auditor/lint/analysis.py through `lint_source`."""

import pytest

from auditor.lint.config import LintConfig, config_from_mapping
from auditor.lint.runner import lint_source

from ._support import PRELUDE, check, expected, handler_class

ORIGINAL_DEFECT = handler_class(
    """
    thread_id = payload.get("thread_id") or generate_thread_id()
    run_id = payload.get("run_id") or generate_run_id()
    context = await self.session_manager.get_execution_context(thread_id=thread_id, run_id=run_id)  # expect: QC001
    metrics = await self.manager.get_metrics(payload.get("agent_name"), payload.get("period_hours", 24))
    await self._send_metrics_response(user_id, context, metrics)
    """,
    """
    async def _send_metrics_response(self, user_id, context, metrics):
        await self.manager.send(user_id, {"type": "quality_metrics", "thread_id": context.thread_id})
    """,
)

POSITIVE = {
    "original defect: or-fallback for thread and run is one finding": ORIGINAL_DEFECT,
    "if not thread_id: f-string with uuid4 hex": handler_class(
        """
        thread_id = payload.get("thread_id")
        if not thread_id:
            thread_id = f"thread_{uuid.uuid4().hex[:8]}"
        context = await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        return context
        """
    ),
    "is None test on run_id with uuid4().hex": handler_class(
        """
        run_id = payload.get("run_id")
        if run_id is None:
            run_id = uuid.uuid4().hex
        return await self.session_manager.get_execution_context(  # expect: QC001
            user_id, run_id=run_id
        )
        """
    ),
    "dict.get default minted with secrets.token_hex": handler_class(
        """
        thread_id = payload.get("thread_id", secrets.token_hex(8))
        return await self.session_manager.get_or_create_session(user_id, thread_id=thread_id)  # expect: QC001
        """
    ),
    "fallback inline in the getter call": handler_class(
        """
        return await self.session_manager.get_execution_context(  # expect: QC001
            thread_id=payload.get("thread_id") or str(uuid.uuid4()),
        )
        """
    ),
    "ternary on key presence": handler_class(
        """
        thread_id = payload["thread_id"] if "thread_id" in payload else generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "try/except KeyError around the read": handler_class(
        """
        try:
            thread_id = payload["thread_id"]
        except KeyError:
            thread_id = generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "else branch mints inline": handler_class(
        """
        if payload.get("thread_id"):
            context = await self.session_manager.get_execution_context(thread_id=payload["thread_id"])
        else:
            context = await self.session_manager.get_execution_context(thread_id=generate_thread_id())  # expect: QC001
        return context
        """
    ),
    "else branch assigns a differently named local": handler_class(
        """
        if payload.get("thread_id"):
            tid = payload["thread_id"]
        else:
            tid = generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=tid)  # expect: QC001
        """
    ),
    "getattr default minted": handler_class(
        """
        thread_id = getattr(payload, "thread_id", uuid.uuid4().hex)
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "fallback hidden in a helper method": handler_class(
        """
        thread_id = self._thread_id_or_new(payload)
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """,
        """
        def _thread_id_or_new(self, payload):
            return payload.get("thread_id") or generate_thread_id()
        """,
    ),
    "minting helper in the fallback": handler_class(
        """
        run_id = payload.get("run_id") or self._new_run()
        return await self.session_manager.get_execution_context(run_id=run_id)  # expect: QC001
        """,
        """
        def _new_run(self):
            return f"run_{secrets.token_urlsafe(6)}"
        """,
    ),
    "ID kept on self then passed": handler_class(
        """
        self._thread_id = payload.get("thread_id") or generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=self._thread_id)  # expect: QC001
        """
    ),
    "a prefixed template filled with .format": handler_class(
        """
        thread_id = payload.get("thread_id") or "thread_{}".format(int(time.time()))
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "a prefixed template filled with %": handler_class(
        """
        run_id = payload.get("run_id") or "run_%d" % secrets.randbits(32)
        return await self.session_manager.get_execution_context(run_id=run_id)  # expect: QC001
        """
    ),
    "a prefix concatenated": handler_class(
        """
        thread_id = payload.get("thread_id") or "thread_" + str(counter())
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "a generator imported under another name": "from app.ids import generate_thread_id as gt\n"
    + handler_class(
        """
        thread_id = payload.get("thread_id") or gt()
        return await self.session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001
        """
    ),
    "a module imported under another name": "import uuid as u\n"
    + handler_class(
        """
        run_id = payload.get("run_id") or str(u.uuid4())
        return await self.session_manager.get_execution_context(run_id=run_id)  # expect: QC001
        """
    ),
    "a getter imported under another name": "from app.sessions import get_execution_context as ctx_of\n"
    + handler_class(
        """
        thread_id = payload.get("thread_id") or generate_thread_id()
        return await ctx_of(user_id, thread_id=thread_id)  # expect: QC001
        """
    ),
    # forms a reviewer met in real handlers and the checker missed
    "setdefault stores a minted thread in the payload": handler_class(
        """
        payload.setdefault("thread_id", str(uuid.uuid4()))
        return await self.session_manager.get_execution_context(user_id, thread_id=payload["thread_id"])  # expect: QC001
        """
    ),
    "setdefault's return value": handler_class(
        """
        thread_id = payload.setdefault("thread_id", generate_thread_id())
        return await self.session_manager.get_execution_context(user_id, thread_id=thread_id)  # expect: QC001
        """
    ),
    "walrus in the guard": handler_class(
        """
        if not (thread_id := payload.get("thread_id")):
            thread_id = generate_thread_id()
        return await self.session_manager.get_execution_context(user_id, thread_id=thread_id)  # expect: QC001
        """
    ),
    "walrus compared with None": handler_class(
        """
        if (run_id := payload.get("run_id")) is None:
            run_id = generate_run_id()
        return await self.session_manager.get_execution_context(user_id, run_id=run_id)  # expect: QC001
        """
    ),
    "the payload's item minted when missing, read with get": handler_class(
        """
        if "thread_id" not in payload:
            payload["thread_id"] = f"thread_{uuid.uuid4().hex}"
        return await self.session_manager.get_execution_context(user_id, thread_id=payload.get("thread_id"))  # expect: QC001
        """
    ),
}

NEGATIVE = {
    "a name imported as a generator's name is not one": (
        "from app.text import shorten as make_thread_id\n"
    )
    + handler_class(
        """
        thread_id = payload.get("thread_id") or make_thread_id("x")
        return await self.session_manager.get_execution_context(thread_id=thread_id)
        """
    ),
    "incoming IDs passed through untouched": handler_class(
        """
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
        )
        return context
        """
    ),
    "create_thread handler mints a genuinely new thread": handler_class(
        """
        return await self._handle_create_thread(user_id, payload)
        """,
        """
        async def _handle_create_thread(self, user_id, payload):
            thread_id = payload.get("thread_id") or generate_thread_id()
            context = await self.session_manager.get_execution_context(thread_id=thread_id, run_id=None)
            return {"type": "thread_created", "thread_id": context.thread_id}
        """,
    ),
    "request id from uuid never reaches a context getter": handler_class(
        """
        request_id = payload.get("request_id") or str(uuid.uuid4())
        logger.info("quality request", extra={"request_id": request_id})
        context = await self.session_manager.get_execution_context(
            thread_id=payload.get("thread_id"), run_id=payload.get("run_id"), request_id=request_id
        )
        return context
        """
    ),
    "unconditional mint is a deliberate new ID, not a fallback": handler_class(
        """
        run_id = generate_run_id()
        return await self.session_manager.get_execution_context(thread_id=payload["thread_id"], run_id=run_id)
        """
    ),
    "fallback overwritten before the call": handler_class(
        """
        thread_id = payload.get("thread_id") or generate_thread_id()
        logger.debug("asked for %s", thread_id)
        thread_id = payload["thread_id"]
        return await self.session_manager.get_execution_context(thread_id=thread_id)
        """
    ),
    "fallback minted after the getter call": handler_class(
        """
        context = await self.session_manager.get_execution_context(thread_id=payload.get("thread_id"))
        thread_id = context.thread_id or generate_thread_id()
        await self.manager.send(user_id, {"thread_id": thread_id})
        """
    ),
    "minting under an unrelated condition": handler_class(
        """
        thread_id = payload.get("thread_id")
        if payload.get("fork"):
            thread_id = generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id)
        """
    ),
    # a test of the ID's presence guards no fallback (reviewed on real code: these were
    # flagged, and --fix deleted the normalization of an ID the client did send)
    "normalizing an ID the client sent": handler_class(
        """
        thread_id = payload.get("thread_id")
        if thread_id and "_" not in thread_id:
            thread_id = f"thread_{thread_id}"  # legacy clients send the bare number
        return await self.session_manager.get_execution_context(user_id, thread_id=thread_id)
        """
    ),
    "normalizing in a conditional expression": handler_class(
        """
        raw = payload.get("thread_id")
        thread_id = raw if raw is None or raw.startswith("thread_") else f"thread_{raw}"
        return await self.session_manager.get_execution_context(user_id, thread_id=thread_id)
        """
    ),
    "a new run in the client's thread": handler_class(
        """
        thread_id = payload.get("thread_id")
        run_id = None
        if thread_id:
            run_id = generate_run_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id, run_id=run_id)
        """
    ),
    "a fork when a parent thread is named": handler_class(
        """
        thread_id = payload.get("thread_id")
        if payload.get("parent_thread_id"):
            thread_id = generate_thread_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id)
        """
    ),
    "setdefault with None": handler_class(
        """
        payload.setdefault("thread_id", None)
        return await self.session_manager.get_execution_context(user_id, thread_id=payload["thread_id"])
        """
    ),
    "the payload's item rewritten from itself": handler_class(
        """
        payload["thread_id"] = payload["thread_id"].strip()
        return await self.session_manager.get_execution_context(user_id, thread_id=payload["thread_id"])
        """
    ),
    "walrus testing presence before a new run": handler_class(
        """
        run_id = None
        if thread_id := payload.get("thread_id"):
            run_id = generate_run_id()
        return await self.session_manager.get_execution_context(thread_id=thread_id, run_id=run_id)
        """
    ),
    "the payload's item set to a new thread on purpose": handler_class(
        """
        payload["thread_id"] = generate_thread_id()
        return await self.session_manager.get_execution_context(user_id, thread_id=payload["thread_id"])
        """
    ),
    "the payload rebound to the next message holds new items": handler_class(
        """
        payload = await ws.recv()
        if "thread_id" not in payload:
            payload["thread_id"] = generate_thread_id()
            await ws.send({"type": "hello"})
        payload = await ws.recv()
        return await self.session_manager.get_execution_context(user_id, thread_id=payload["thread_id"])
        """
    ),
}


@pytest.mark.parametrize("source", POSITIVE.values(), ids=POSITIVE.keys())
def test_qc001_flags_minting_fallbacks(source):
    assert [item for item in check(source) if item[0] == "QC001"] == expected(source)


@pytest.mark.parametrize("source", NEGATIVE.values(), ids=NEGATIVE.keys())
def test_qc001_leaves_look_alikes_alone(source):
    assert [item for item in check(source) if item[0] == "QC001"] == []


def test_one_finding_names_both_ids_and_the_minting_line():
    (finding,) = lint_source(ORIGINAL_DEFECT, "handler.py", LintConfig()).findings
    lines = ORIGINAL_DEFECT.splitlines()
    mint_line = next(i for i, text in enumerate(lines, 1) if "generate_thread_id()" in text)
    call_line = expected(ORIGINAL_DEFECT)[0][1]
    column = lines[call_line - 1].index("self.session_manager") + 1
    assert finding.message == (
        "get_execution_context() can receive a minted thread_id and run_id when the request "
        f"has none (line {mint_line}): each such message opens an orphan thread; pass the "
        "incoming IDs or None through"
    )
    assert (finding.line, finding.column, finding.fixable) == (call_line, column, True)


def test_configured_generator_and_getter_names():
    source = PRELUDE + (
        "\n\nasync def on_quality(user_id, payload, store):\n"
        "    conversation_id = payload.get('conversation_id') or new_conversation()\n"
        "    return await store.open_dialog(user_id, conversation_id)  # expect: QC001\n"
    )
    assert check(source) == []
    config = config_from_mapping(
        {"extend-generators": ["new_conversation"], "extend-getters": ["open_dialog"]}, "test"
    )
    assert check(source, config) == expected(source)


def test_plain_function_handlers_are_checked_too():
    source = PRELUDE + (
        "\n\nasync def handle_quality_message(session_manager, user_id, message):\n"
        "    thread_id = message.get('thread_id') or generate_thread_id()\n"
        "    return await session_manager.get_execution_context(thread_id=thread_id)  # expect: QC001\n"
    )
    assert check(source) == expected(source)
