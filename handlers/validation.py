"""`validate_content`: score content, store the validation, notify the user's subscribed sessions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from handlers.context import ExecutionContext
from handlers.manager import QualityManager
from handlers.protocol import Handled, ValidatePayload
from handlers.reporting import ValidationRecord
from handlers.scoring import score_content
from handlers.store import Store


class ValidationHandler:
    def __init__(
        self, store: Store, manager: QualityManager, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._manager = manager
        self._clock = clock

    async def handle(self, ctx: ExecutionContext, payload: ValidatePayload) -> Handled:
        result = score_content(payload.content, payload.content_type, payload.strict_mode)
        self._store.add_validation(
            ValidationRecord(
                user_id=ctx.user_id,
                thread_id=ctx.thread_id,
                run_id=ctx.run_id,
                agent_name=payload.agent_name,
                content_type=payload.content_type.value,
                score=result.score,
                passed=result.passed,
                issues=result.issues,
                created_at=datetime.fromtimestamp(self._clock(), UTC),
            )
        )
        body = {
            "passed": result.passed,
            "score": result.score,
            "metrics": result.metrics,
            "issues": list(result.issues),
            "content_type": payload.content_type.value,
            "strict_mode": payload.strict_mode,
        }
        summary = {
            "score": result.score,
            "passed": result.passed,
            "content_type": body["content_type"],
        }
        return Handled(
            "content_validation_result",
            body,
            after=partial(self._manager.after_validation, ctx.user_id, result, summary),
        )
