"""Chat and thread messages: `user_message`, `create_thread`, `switch_thread`.

The agent itself is outside this project: `agent_reply` acknowledges the
message in its run, which is what continuity needs (a run per user message,
in the thread the user is in). A real backend plugs its agent in here.
"""

from __future__ import annotations

from handlers.context import ExecutionContext
from handlers.protocol import CreateThreadPayload, Handled, UserMessagePayload
from handlers.sessions import SessionManager


class ChatHandler:
    def __init__(self, sessions: SessionManager) -> None:
        self._sessions = sessions

    async def user_message(self, ctx: ExecutionContext, payload: UserMessagePayload) -> Handled:
        words = len(payload.text.split())
        return Handled(
            "agent_reply", {"text": f"Received your message ({words} words).", "words": words}
        )

    async def thread_created(self, ctx: ExecutionContext, payload: CreateThreadPayload) -> Handled:
        return Handled("thread_created", {"title": payload.title})

    async def thread_switched(self, ctx: ExecutionContext) -> Handled:
        thread = self._sessions.thread(ctx.user_id, ctx.thread_id or "")
        return Handled("thread_switched", {"title": thread.title})
