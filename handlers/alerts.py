"""`subscribe_quality_alerts`: subscribe (optional score threshold) or unsubscribe."""

from __future__ import annotations

from handlers.context import ExecutionContext
from handlers.manager import QualityManager
from handlers.protocol import Handled, SubscribePayload


class AlertHandler:
    """Subscriptions are the user's; the reply goes to the session that asked."""

    def __init__(self, manager: QualityManager) -> None:
        self._manager = manager

    async def handle(self, ctx: ExecutionContext, payload: SubscribePayload) -> Handled:
        if payload.action == "unsubscribe":
            removed = self._manager.unsubscribe(ctx.user_id)
            return Handled("quality_alerts_unsubscribed", {"was_subscribed": removed})
        subscription = self._manager.subscribe(ctx.user_id, payload.threshold)
        return Handled(
            "quality_alerts_subscribed",
            {"threshold": subscription.threshold, "subscribed": True},
        )
