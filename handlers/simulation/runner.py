"""Driving simulated users through the real handlers, in process.

Every message goes through `QualityApp.handle` exactly as a WebSocket frame
would (JSON text, the caller from the connection); every live session is
registered with the manager to receive broadcasts. The handlers write the
spans and log lines; the simulator only reads replies, counts, and moves the
simulated clock (see `timeline`). A rollout closes the telemetry of the first
app and opens a second one, with another strategy and version, on the same
store and files: connected sessions carry over, as through a rolling deploy.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.exporter.otlp.json.file import FileSpanExporter

from handlers.app import QualityApp
from handlers.config import Settings, Strategy
from handlers.errors import ConfigError
from handlers.ids import IdMinter
from handlers.manager import Send
from handlers.simulation.config import SimulationConfig
from handlers.simulation.result import Exchange, SimulationResult
from handlers.simulation.timeline import SimulatedTimeExporter, SimulatedTimeFilter, Timeline
from handlers.simulation.traffic import ClientSession, Outgoing, UserState, next_message, observe
from handlers.simulation.truth import GroundTruth

#: ``progress(done, total)``: called after each message.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class _Phase:
    strategy: Strategy
    version: str | None
    messages: int


def _phases(config: SimulationConfig) -> list[_Phase]:
    if config.rollout_at is None:
        return [_Phase(config.strategy, None, config.total_messages)]
    before = config.rollout_messages
    return [
        _Phase(config.rollout_from, config.versions[0], before),
        _Phase(config.strategy, config.versions[1], config.total_messages - before),
    ]


def prepare_out(settings: Settings, overwrite: bool) -> None:
    """Make sure the output files start empty; refuse to mix with earlier data unless told."""
    db = settings.db_path
    targets = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    targets += [settings.trace_path, settings.log_path]
    existing = [path for path in targets if path.exists()]
    if existing and not overwrite:
        names = ", ".join(str(path.relative_to(settings.home)) for path in existing)
        raise ConfigError(
            f"{settings.home} already holds {names}; choose an empty directory or overwrite it (--overwrite)"
        )
    for path in existing:
        path.unlink()
    settings.trace_path.parent.mkdir(parents=True, exist_ok=True)
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)


class _Simulation:
    """One run: the apps, the connected sessions, the scheduler and the counters."""

    def __init__(self, config: SimulationConfig, progress: Progress | None) -> None:
        self.config = config
        self.progress = progress
        self.rng = random.Random(config.seed)
        id_rng = random.Random(f"ids:{config.seed}")
        self.timeline = Timeline(config.start)
        self.ids = IdMinter(
            clock_ms=lambda: self.timeline.now_ns // 1_000_000,
            random_hex=lambda: f"{id_rng.getrandbits(32):08x}",
        )
        self.settings = Settings(home=config.out, user="simulator", strategy=config.strategy)
        self.truth = GroundTruth()
        self.digest = hashlib.sha256()
        self.transcript: list[Exchange] = []
        self.apps: list[QualityApp] = []
        self.live: list[ClientSession] = []
        self.sessions = 0
        self.reconnects = 0
        self.phase = _Phase(config.strategy, None, 0)
        self._pushed: list[tuple[str, dict[str, Any]]] = []

    # -- apps -----------------------------------------------------------------
    @property
    def app(self) -> QualityApp:
        return self.apps[-1]

    def _open(self, phase: _Phase) -> None:
        store = None
        if self.apps:
            store = self.app.store
            self.app.telemetry.shutdown()  # the old version's spans and lines reach the files
        exporter = SimulatedTimeExporter(FileSpanExporter(self.settings.trace_path), self.timeline)
        app = QualityApp.open(
            self.settings,
            store=store,
            exporter=exporter,
            batch_spans=False,  # the exporter buffers; a batch queue could drop spans
            service_version=phase.version,
            strategy=phase.strategy,
            ids=self.ids,
            clock=self.timeline,
        )
        if app.telemetry.log_handler is not None:
            app.telemetry.log_handler.addFilter(SimulatedTimeFilter(self.timeline))
        self.apps.append(app)
        self.phase = phase
        for session in self.live:
            app.manager.connect(session.caller, self._push_to(session))

    def _close(self) -> int:
        """Close every app; returns the telemetry records that could not be written."""
        for app in self.apps:
            app.telemetry.shutdown()
        if self.apps:
            self.app.close()
        return sum(app.telemetry.export_failures for app in self.apps)

    # -- sessions -------------------------------------------------------------
    def _push_to(self, session: ClientSession) -> Send:
        user_id, session_id = session.caller.user_id, session.caller.session_id

        async def push(message: dict[str, Any]) -> None:
            self._pushed.append((session_id, message))
            self.truth.broadcast(user_id, session_id, message, self.phase.version)

        return push

    def _connect(self, user: UserState) -> ClientSession:
        reconnect = user.sessions_left < self.config.sessions_per_user
        user.sessions_left -= 1
        caller = self.app.sessions.open_session(user.user_id)
        session = ClientSession(user, caller, self.config.messages, reconnect)
        self.app.manager.connect(caller, self._push_to(session))
        self.sessions += 1
        self.reconnects += int(reconnect)
        return session

    # -- one message ----------------------------------------------------------
    async def _send(self, index: int, session: ClientSession, out: Outgoing) -> None:
        caller, phase = session.caller, self.phase
        chat_thread = session.current_thread
        self._pushed = []
        recorded = False

        async def on_reply(reply: dict[str, Any]) -> None:
            nonlocal recorded
            recorded = True
            self.truth.exchange(
                caller.user_id, caller.session_id, out, reply, phase.strategy, phase.version
            )

        reply = await self.app.handle(caller, out.wire, on_reply)
        if not recorded:  # the router always sends; this keeps the count honest if it did not
            await on_reply(reply)
        observe(session, reply)
        pushed = tuple(self._pushed)
        self.digest.update(
            orjson.dumps([caller.session_id, out.wire, reply, pushed], option=orjson.OPT_SORT_KEYS)
        )
        if self.config.keep_transcript:
            self.transcript.append(
                Exchange(
                    index,
                    self.timeline(),
                    caller.user_id,
                    caller.session_id,
                    out.scenario,
                    out.wire,
                    chat_thread,
                    reply,
                    pushed,
                    phase.strategy,
                    phase.version,
                )
            )

    async def run(self) -> SimulationResult:
        config = self.config
        prepare_out(self.settings, config.overwrite)
        phases = deque(_phases(config))
        users = [
            UserState(f"user_{i:03d}", config.sessions_per_user) for i in range(1, config.users + 1)
        ]
        self.rng.shuffle(users)  # arrival order
        waiting = deque(users)
        total = config.total_messages
        started = time.perf_counter()
        failures = 0
        try:
            self._open(phases.popleft())
            switch_at = self.phase.messages
            for index in range(total):
                if index == switch_at and phases:
                    self._open(phases.popleft())
                while len(self.live) < config.concurrency and waiting:
                    self.live.append(self._connect(waiting.popleft()))
                pick = self.rng.randrange(len(self.live))
                session = self.live[pick]
                self.timeline.mark(self.rng.uniform(*config.step_s))
                await self._send(index, session, next_message(self.rng, session))
                if session.remaining == 0:
                    self.app.manager.disconnect(session.caller)
                    self.live.pop(pick)
                    if session.user.sessions_left:
                        self.live.append(self._connect(session.user))
                if self.progress is not None:
                    self.progress(index + 1, total)
        finally:
            failures = self._close()
        elapsed = time.perf_counter() - started
        return self._result(elapsed, failures)

    def _result(self, elapsed: float, failures: int) -> SimulationResult:
        truth, settings = self.truth, self.settings
        return SimulationResult(
            config=self.config,
            trace_path=settings.trace_path,
            log_path=settings.log_path,
            db_path=settings.db_path,
            messages=self.config.total_messages,
            sent=dict(truth.sent),
            replies=dict(truth.replies),
            errors=dict(truth.errors),
            broadcasts=dict(truth.broadcasts),
            users=self.config.users,
            sessions=self.sessions,
            reconnects=self.reconnects,
            quality_requests=truth.quality_requests,
            quality_users=len(truth.quality_users),
            quality_interactions=truth.quality_interactions,
            strategy_users=len(truth.strategy_users),
            implicit_transitions=dict(truth.implicit_transitions),
            expected=truth.expected(),
            expected_by_version=truth.expected_by_version(),
            simulated_start=self.config.start,
            simulated_end=self.timeline(),
            elapsed_s=elapsed,
            export_failures=failures,
            digest=self.digest.hexdigest(),
            transcript=tuple(self.transcript),
        )


async def simulate_async(
    config: SimulationConfig, progress: Progress | None = None
) -> SimulationResult:
    """Run the simulation on the current event loop (see `simulate`)."""
    return await _Simulation(config, progress).run()


def simulate(config: SimulationConfig, progress: Progress | None = None) -> SimulationResult:
    """Simulate ``config``'s traffic through the real handlers; writes traces, logs and the store.

    ``progress(done, total)`` is called after each message. Returns the ground
    truth counted from the replies (see `SimulationResult`).
    """
    return asyncio.run(simulate_async(config, progress))
