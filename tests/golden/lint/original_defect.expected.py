"""Quality metrics handler, as shipped with the minted-context fallback."""

import uuid  # request ids for the logs

from app.sessions import SessionManager


class QualityMetricsHandler:
    def __init__(self, session_manager: SessionManager, manager) -> None:
        self.session_manager = session_manager
        self.manager = manager

    async def handle(self, user_id: str, payload: dict) -> None:
        request_id = str(uuid.uuid4())
        # Resolve the conversation the request belongs to.
        thread_id = payload.get('thread_id')   # keep the client's thread
        run_id = (payload.get("run_id"))
        context = await self.session_manager.get_execution_context(
            thread_id=thread_id,
            run_id=run_id,  # the run, if any
        )
        metrics = await self.manager.get_metrics(payload.get("agent_name"), payload.get("period_hours", 24))
        await self._send_metrics_response(user_id, context, metrics, request_id)

    async def _send_metrics_response(self, user_id, context, metrics, request_id):
        await self.manager.send(user_id, {"type": "quality_metrics", "thread_id": context.thread_id,
                                          "run_id": context.run_id, "metrics": metrics})
