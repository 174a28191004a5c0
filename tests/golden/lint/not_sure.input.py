"""Fallbacks the fixer reports but leaves alone: rewriting them needs a human."""

from app.ids import generate_run_id, generate_thread_id


class QualityValidationHandler:
    async def handle(self, user_id, payload):
        # A ternary: dropping the mint would leave payload["thread_id"] raising KeyError.
        thread_id = payload["thread_id"] if "thread_id" in payload else generate_thread_id()
        a = await self.session_manager.get_execution_context(thread_id=thread_id)

        # The fallback lives in a helper other code may call.
        run_id = self._run_id_or_new(payload)
        b = await self.session_manager.get_execution_context(thread_id=payload.get("thread_id"), run_id=run_id)

        # The if does more than mint.
        other = payload.get("thread_id")
        if not other:
            logger.info("minting a thread for %s", user_id)
            other = generate_thread_id()
        c = await self.session_manager.get_execution_context(thread_id=other)

        # Suppressed on purpose.
        legacy = payload.get("thread_id") or generate_thread_id()
        d = await self.session_manager.get_execution_context(thread_id=legacy)  # noqa: QC001
        return a, b, c, d

    def _run_id_or_new(self, payload):
        return payload.get("run_id") or generate_run_id()
