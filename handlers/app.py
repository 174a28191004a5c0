"""Assembly: one `QualityApp` = store + session manager + manager + router + telemetry."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter

from handlers.alerts import AlertHandler
from handlers.chat import ChatHandler
from handlers.config import Settings, Strategy
from handlers.context import Caller
from handlers.ids import IdGenerator, new_id
from handlers.manager import QualityManager, Send
from handlers.metrics import MetricsHandler
from handlers.recording import EventRecorder
from handlers.reports import ReportHandler
from handlers.router import Router
from handlers.sessions import SessionManager
from handlers.store import Store
from handlers.store.sqlite import SqliteStore
from handlers.telemetry import Telemetry, setup_telemetry
from handlers.validation import ValidationHandler


@dataclass
class QualityApp:
    """Everything needed to handle messages for many users in one process."""

    settings: Settings
    store: Store
    sessions: SessionManager
    manager: QualityManager
    router: Router
    telemetry: Telemetry

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        store: Store | None = None,
        tracing: bool = True,
        exporter: SpanExporter | None = None,
        batch_spans: bool = True,
        log: bool = True,
        service_version: str | None = None,
        strategy: Strategy | None = None,
        ids: IdGenerator = new_id,
        clock: Callable[[], float] = time.time,
        logger_name: str = "quality",
        shared_sessions: bool = False,
    ) -> QualityApp:
        """Open the store under ``settings.home`` (unless given) and wire the handlers;
        ``shared_sessions``: other processes use the same sessions (the CLI's), so the store
        keeps no session cache."""
        strategy = strategy or settings.strategy
        store = store or SqliteStore(settings.db_path, cache_sessions=not shared_sessions)
        telemetry = setup_telemetry(
            trace_path=settings.trace_path,
            log_path=settings.log_path if log else None,
            service_version=service_version,
            tracing=tracing,
            exporter=exporter,
            batch=batch_spans,
            logger_name=logger_name,
        )
        recorder = EventRecorder(telemetry)
        sessions = SessionManager(store, ids=ids, clock=clock, ttl_s=settings.session_ttl_s)
        manager = QualityManager(sessions, recorder, strategy, ids=ids, clock=clock)
        router = Router(
            sessions,
            recorder,
            strategy,
            chat=ChatHandler(sessions),
            alerts=AlertHandler(manager),
            metrics=MetricsHandler(store, clock),
            reports=ReportHandler(store, clock),
            validation=ValidationHandler(store, manager, clock),
            ids=ids,
        )
        return cls(settings, store, sessions, manager, router, telemetry)

    async def handle(
        self, caller: Caller, raw: str | bytes | Mapping[str, Any], send: Send | None = None
    ) -> dict[str, Any]:
        """Handle one inbound message of ``caller``; returns the reply."""
        return await self.router.handle(caller, raw, send)

    def close(self) -> None:
        """Flush and close the store and the telemetry (spans and logs reach their files)."""
        self.store.close()
        self.telemetry.shutdown()

    def __enter__(self) -> QualityApp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
