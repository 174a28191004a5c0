from app.ids import (
    generate_thread_id,
)


class QualityAlertsHandler:
    async def handle(self, user_id, payload):
        thread_id = payload.get("thread_id")
        context = await self.session_manager.get_execution_context(
            user_id,
            thread_id=thread_id,
            run_id=payload.get("run_id"),
        )
        await self._send_alerts_response(user_id, context)

    async def _handle_create_thread(self, user_id, payload):
        thread_id = generate_thread_id()
        return await self.session_manager.get_execution_context(user_id, thread_id=thread_id)

    async def _send_alerts_response(self, user_id, context):
        return {"type": "quality_alerts_subscribed", "thread_id": context.thread_id}
