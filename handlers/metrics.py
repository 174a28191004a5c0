"""`get_quality_metrics`: aggregates of the user's stored validations over a period."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from handlers.context import ExecutionContext
from handlers.protocol import Handled, MetricsPayload
from handlers.reporting import compute_metrics
from handlers.store import Store


class MetricsHandler:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def handle(self, ctx: ExecutionContext, payload: MetricsPayload) -> Handled:
        now = self._clock()
        records = self._store.validations(ctx.user_id, now - payload.period_hours * 3600)
        metrics = compute_metrics(
            records,
            now=datetime.fromtimestamp(now, UTC),
            period_hours=payload.period_hours,
            agent_name=payload.agent_name,
        )
        return Handled("quality_metrics", metrics.to_dict())
