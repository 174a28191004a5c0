"""`generate_quality_report`: a markdown report (summary or detailed) over a day or a week."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from handlers.context import ExecutionContext
from handlers.protocol import Handled, ReportPayload
from handlers.reporting import ReportPeriod, ReportType, render_report
from handlers.store import Store

_PERIOD_S = {ReportPeriod.DAY: 86_400.0, ReportPeriod.WEEK: 7 * 86_400.0}


class ReportHandler:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def handle(self, ctx: ExecutionContext, payload: ReportPayload) -> Handled:
        period = ReportPeriod(payload.period)
        now = self._clock()
        records = self._store.validations(ctx.user_id, now - _PERIOD_S[period])
        generated = datetime.fromtimestamp(now, UTC)
        markdown, raw = render_report(
            records, report_type=ReportType(payload.report_type), period=period, now=generated
        )
        return Handled(
            "quality_report_generated",
            {
                "report": markdown,
                "raw_data": raw,
                "report_type": payload.report_type,
                "period": payload.period,
                "timestamp": generated.isoformat().replace("+00:00", "Z"),
            },
        )
