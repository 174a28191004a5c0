import secrets
import uuid

from app.sessions import SessionManager


class QualityReportHandler:
    def __init__(self, session_manager: SessionManager) -> None:
        self.session_manager = session_manager

    async def handle(self, user_id, payload):
        thread_id = payload.get("thread_id")
        run_id = payload.get("run_id")

        # No thread from the client: start a fresh one.
        if not thread_id:
            thread_id = f"thread_{uuid.uuid4().hex[:8]}"
        if run_id is None:
            run_id = "run_" + secrets.token_hex(4)
        context = await self.session_manager.get_execution_context(user_id, thread_id=thread_id, run_id=run_id)
        return await self._send_report_response(user_id, context, secrets.token_urlsafe(8))

    async def _send_report_response(self, user_id, context, nonce):
        return {"type": "quality_report_generated", "thread_id": context.thread_id, "nonce": nonce}
