"""The session manager: resolves who/where a message is into an `ExecutionContext`.

`resume` (the product): the thread the client named, after an ownership check;
else the session's active thread; else the user's most recent thread; else a new
thread, recorded as a ``thread.create`` transition. `mint` and `default-session`
reproduce the two historical behaviours for quality operations only (DESIGN.md).
Chat and thread messages always resolve as in `resume`.

All per-request state lives in arguments and return values: one manager serves
every connection concurrently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from handlers import attributes as attr
from handlers.config import DEFAULT_SESSION_TTL_S, Strategy
from handlers.context import Caller, ExecutionContext, Outcome, Resolution
from handlers.errors import HandlerError, RunNotFound, ThreadNotFound
from handlers.ids import IdGenerator, new_id
from handlers.store import RunRecord, SessionRecord, Store, ThreadKind, ThreadRecord

#: A session's ``last_seen`` is rewritten at most this often (seconds) when nothing else changes.
_TOUCH_GRANULARITY_S = 1.0


def default_session_key(user_id: str) -> str:
    """The session key the `default-session` strategy stores its per-user thread under."""
    return f"{user_id}:default"


@dataclass(frozen=True, slots=True)
class _Active:
    """`resume`'s resolution, its thread as stored now, the session's live record, and the
    run the session keeps (saved by the caller: a chat message saves it once, with its run)."""

    resolution: Resolution
    thread: ThreadRecord
    live: SessionRecord | None
    kept: str | None


class SessionManager:
    """Resolves contexts over a `Store`. Safe to share: it keeps no per-request state."""

    def __init__(
        self,
        store: Store,
        *,
        ids: IdGenerator = new_id,
        clock: Callable[[], float] = time.time,
        ttl_s: float = DEFAULT_SESSION_TTL_S,
    ) -> None:
        self.store = store
        self._ids = ids
        self._clock = clock
        self._ttl_s = ttl_s

    # -- sessions -------------------------------------------------------------
    def open_session(self, user_id: str, session_id: str | None = None) -> Caller:
        """A caller for a new connection, or for resuming ``session_id`` if it is the user's own."""
        if session_id is not None:
            # Only a session this user already has can be resumed: a client-chosen ID
            # could otherwise name another user's session or a reserved key.
            existing = self.store.get_session(session_id)
            reserved = session_id == default_session_key(user_id)  # default-session's row
            if existing is None or existing.user_id != user_id or reserved:
                raise HandlerError("unknown session", code="session_not_found")
            return Caller(user_id, session_id)
        caller = Caller(user_id, self._ids("sess"))
        # stored at once (no thread yet): the ID `session_ready` hands out can be resumed
        # after a reconnect even if nothing was resolved in it
        self.store.save_session(SessionRecord(caller.session_id, user_id, None, self._clock()))
        return caller

    def cli_session(self, user_id: str) -> Caller:
        """The persisted CLI session of a user: reused until it expires after the TTL. Of CLI
        processes that start or replace it at once, the first claim wins and all use it."""
        session_id = self.store.get_cli_session(user_id)
        if session_id is not None:
            record = self.store.get_session(session_id)
            if record is None or not self._expired(record):
                return Caller(user_id, session_id)
        candidate = self._ids("sess")
        chosen = self.store.claim_cli_session(user_id, candidate, replacing=session_id)
        if chosen == candidate:
            self.store.save_session(SessionRecord(candidate, user_id, None, self._clock()))
        return Caller(user_id, chosen)

    def _expired(self, session: SessionRecord) -> bool:
        return self._clock() - session.last_seen > self._ttl_s

    def _load_session(self, caller: Caller) -> SessionRecord | None:
        """The caller's live session record; None when new or expired (threads are kept)."""
        return self._live(self._stored_session(caller))

    def _live(self, session: SessionRecord | None) -> SessionRecord | None:
        return None if session is None or self._expired(session) else session

    def _stored_session(self, caller: Caller) -> SessionRecord | None:
        """The caller's session record, expired or not."""
        session = self.store.get_session(caller.session_id)
        if session is not None and session.user_id != caller.user_id:
            raise HandlerError("unknown session", code="session_not_found")
        return session

    def _remember(
        self, caller: Caller, previous: SessionRecord | None, thread_id: str, run_id: str | None
    ) -> None:
        now = self._clock()
        if (
            previous is not None
            and previous.active_thread_id == thread_id
            and previous.active_run_id == run_id
            and now - previous.last_seen < _TOUCH_GRANULARITY_S
        ):
            return
        record = SessionRecord(caller.session_id, caller.user_id, thread_id, now, run_id)
        self.store.save_session(record)

    @staticmethod
    def _session_run(session: SessionRecord | None, thread: ThreadRecord) -> str | None:
        """The session's current run in ``thread`` (DESIGN.md rule 8 follows runs per
        session): the run it last started or continued there, also after it expired (an
        audit knows nothing of expiry); a session with none there takes the thread's
        current run. Two tabs of one user in one thread each keep their own run."""
        if session is None or session.active_thread_id != thread.thread_id:
            return thread.current_run_id
        return session.active_run_id or thread.current_run_id

    # -- threads and runs -----------------------------------------------------
    def _owned_thread(self, user_id: str, thread_id: str) -> ThreadRecord:
        thread = self.store.get_thread(thread_id)
        if thread is None or thread.user_id != user_id:
            # Same answer for unknown and foreign threads: never confirm another user's ID.
            raise ThreadNotFound(f"thread {thread_id!r} not found for this user")
        return thread

    def _stored_own(
        self, user_id: str, thread_id: str | None, kind: ThreadKind | None = None
    ) -> ThreadRecord | None:
        """A thread recorded in a session row, only if it is the user's own (and of ``kind``).

        Session IDs can come from clients, so a session row may have been written
        by another user (e.g. one named ``"{user}:default"``): never trust its thread.
        """
        thread = self.store.get_thread(thread_id) if thread_id is not None else None
        if thread is None or thread.user_id != user_id:
            return None
        if kind is not None and thread.kind is not kind:
            return None
        return thread

    def _new_thread(self, user_id: str, title: str | None, kind: ThreadKind) -> ThreadRecord:
        now = self._clock()
        thread = ThreadRecord(self._ids("thread"), user_id, title, kind, None, now, now)
        self.store.save_thread(thread)
        return thread

    def _run_of(self, thread: ThreadRecord, run_id: str | None) -> str | None:
        if run_id is None:
            return thread.current_run_id
        run = self.store.get_run(run_id)
        if run is None or run.thread_id != thread.thread_id:
            raise RunNotFound(f"run {run_id!r} is not a run of thread {thread.thread_id!r}")
        return run_id

    def _context(
        self,
        caller: Caller,
        thread: str | None,
        run: str | None,
        outcome: Outcome,
        strategy: Strategy,
    ) -> ExecutionContext:
        return ExecutionContext(caller.user_id, caller.session_id, thread, run, outcome, strategy)

    def _pick(
        self, caller: Caller, thread_id: str | None
    ) -> tuple[SessionRecord | None, str | None, ThreadRecord | None]:
        """`resume`'s choice: the caller's session record (expired or not), where the session
        was (``previous``: its active thread, also after it expired: moving elsewhere is then
        a switch), and the thread: the one named (the user's own), else the live session's,
        else the user's latest."""
        stored = self._stored_session(caller)
        session = self._live(stored)
        active = session.active_thread_id if session else None
        previous = active or (stored.active_thread_id if stored else None)
        if thread_id is not None:
            return stored, previous, self._owned_thread(caller.user_id, thread_id)
        thread = self._stored_own(caller.user_id, active)
        return stored, previous, thread or self.store.latest_thread(caller.user_id)

    # -- strategies -----------------------------------------------------------
    def resume(
        self,
        caller: Caller,
        thread_id: str | None = None,
        run_id: str | None = None,
        strategy: Strategy = Strategy.RESUME,
    ) -> Resolution:
        """The user's active thread and run (`resume`); creates a thread only when the user has none."""
        resolved = self._resolve_active(caller, thread_id, run_id, strategy)
        self._remember(caller, resolved.live, resolved.thread.thread_id, resolved.kept)
        return resolved.resolution

    def _resolve_active(
        self, caller: Caller, thread_id: str | None, run_id: str | None, strategy: Strategy
    ) -> _Active:
        """`resume`'s resolution, and what the session should remember (not yet saved)."""
        stored, previous, thread = self._pick(caller, thread_id)
        transitions: list[tuple[str, ExecutionContext]] = []
        if thread is None and run_id is not None:  # refused before anything is created
            raise RunNotFound(f"run {run_id!r} is not a run of this user's threads")
        if thread is None:
            thread = self._new_thread(caller.user_id, None, ThreadKind.CHAT)
            outcome = Outcome.CREATED
        elif previous not in (None, thread.thread_id):
            outcome = Outcome.SWITCHED
        else:
            outcome = Outcome.RESUMED
        resumed = outcome is Outcome.RESUMED
        current = self._session_run(stored, thread) if resumed else thread.current_run_id
        run = current if run_id is None else self._run_of(thread, run_id)
        context = self._context(caller, thread.thread_id, run, outcome, strategy)
        if outcome is Outcome.CREATED:
            transitions.append((attr.THREAD_CREATE, context))
        elif outcome is Outcome.SWITCHED:
            transitions.append((attr.THREAD_SWITCH, context))
            # a switch, as `switch_thread` is: the thread is now the user's most recent
            # (only once the request is accepted: a refused run changes nothing)
            thread = replace(thread, updated_at=self._clock())
            self.store.save_thread(thread)
        # rule 8: a transition sets the session's run to its event's; otherwise a run the
        # client names becomes current only when the session has none
        kept = run if not resumed or current is None else current
        return _Active(Resolution(context, tuple(transitions)), thread, self._live(stored), kept)

    def mint(
        self, caller: Caller, thread_id: str | None = None, run_id: str | None = None
    ) -> Resolution:
        """`mint`: fresh IDs for whatever the message lacks, an isolated context (the old defect).

        IDs the client names are checked as under every strategy: the thread is the user's,
        the run is a run of that thread, or of one of the user's threads when no thread is
        named (the minted thread is then paired with it, as the old handlers did)."""
        if thread_id is not None:
            thread = self._owned_thread(caller.user_id, thread_id)
            if run_id is not None:
                self._run_of(thread, run_id)
        elif run_id is not None:
            run = self.store.get_run(run_id)
            if run is None or run.user_id != caller.user_id:
                raise RunNotFound(f"run {run_id!r} is not a run of this user's threads")
        minted = thread_id is None or run_id is None
        context = self._context(
            caller,
            thread_id if thread_id is not None else self._ids("thread"),
            run_id if run_id is not None else self._ids("run"),
            Outcome.MINTED if minted else Outcome.RESUMED,
            Strategy.MINT,
        )
        return Resolution(context)

    def default(
        self, caller: Caller, thread_id: str | None = None, run_id: str | None = None
    ) -> Resolution:
        """`default-session`: the per-user shadow thread keyed ``{user}:default`` (the first fix)."""
        if thread_id is not None:
            thread = self._owned_thread(caller.user_id, thread_id)
            context = self._context(
                caller,
                thread_id,
                self._run_of(thread, run_id),
                Outcome.RESUMED,
                Strategy.DEFAULT_SESSION,
            )
            return Resolution(context)
        # thread_id is None here: this is the old behaviour, reproduced on purpose.
        key = default_session_key(caller.user_id)  # noqa: QC003
        record = self.store.get_session(key)
        shadow = self._stored_own(
            caller.user_id, record.active_thread_id if record else None, ThreadKind.DEFAULT
        )
        if shadow is None:
            now = self._clock()
            shadow = ThreadRecord(
                self._ids("thread"),
                caller.user_id,
                "default",
                ThreadKind.DEFAULT,
                self._ids("run"),
                now,
                now,
            )
            self.store.save_thread(shadow)
            self.store.add_run(
                RunRecord(shadow.current_run_id or "", shadow.thread_id, caller.user_id, now)
            )
            self.store.save_session(SessionRecord(key, caller.user_id, shadow.thread_id, now))
        context = self._context(
            caller,
            shadow.thread_id,
            shadow.current_run_id,
            Outcome.DEFAULTED,
            Strategy.DEFAULT_SESSION,
        )
        return Resolution(context)

    def resolve_quality(
        self, caller: Caller, strategy: Strategy, thread_id: str | None, run_id: str | None
    ) -> Resolution:
        """The context of a quality operation under ``strategy``."""
        if strategy is Strategy.MINT:
            return self.mint(caller, thread_id, run_id)
        if strategy is Strategy.DEFAULT_SESSION:
            return self.default(caller, thread_id, run_id)
        return self.resume(caller, thread_id, run_id)

    def current(self, caller: Caller, strategy: Strategy) -> ExecutionContext:
        """Where an error reply or a broadcast goes, without creating anything under `resume`.

        `resume`: the session's active thread (else the user's latest) and its run.
        `mint`/`default-session` reproduce the old error paths and broadcasts.
        """
        if strategy is Strategy.MINT:
            return self.mint(caller).context
        if strategy is Strategy.DEFAULT_SESSION:
            return self.default(caller).context
        session = self._load_session(caller)
        thread = self._stored_own(caller.user_id, session.active_thread_id if session else None)
        if thread is None:
            thread = self.store.latest_thread(caller.user_id)
        if thread is None:
            return self._context(caller, None, None, Outcome.RESUMED, strategy)
        run = self._session_run(session, thread)
        return self._context(caller, thread.thread_id, run, Outcome.RESUMED, strategy)

    def settle(self, caller: Caller, strategy: Strategy) -> Resolution:
        """Where an error reply or a broadcast goes (as :meth:`current`), and under `resume`
        the session settles there, so that its events read in order in an audit: a session
        without a thread yet starts in it (a later message resumes it, not whatever thread
        is then the user's latest), and a move (the session expired, its thread is gone)
        is recorded as a ``thread.switch``. Nothing is created."""
        if strategy is not Strategy.RESUME:
            return Resolution(self.current(caller, strategy))
        stored, previous, thread = self._pick(caller, None)
        if thread is None:
            return Resolution(self._context(caller, None, None, Outcome.RESUMED, strategy))
        moved = previous not in (None, thread.thread_id)
        outcome = Outcome.SWITCHED if moved else Outcome.RESUMED
        run = thread.current_run_id if moved else self._session_run(stored, thread)
        context = self._context(caller, thread.thread_id, run, outcome, strategy)
        # rule 8: the event's run becomes the session's when it had none (another tab may
        # start a run before this session's next message)
        adopted = stored is not None and run is not None and stored.active_run_id != run
        if thread.thread_id == previous and not adopted:
            return Resolution(context)
        # a broadcast is not activity: a known session keeps its last_seen (an expired one
        # stays expired); a session with no record yet starts now
        seen = stored.last_seen if stored is not None else self._clock()
        self.store.save_session(
            SessionRecord(caller.session_id, caller.user_id, thread.thread_id, seen, run)
        )
        return Resolution(context, ((attr.THREAD_SWITCH, context),) if moved else ())

    # -- chat and thread messages (always `resume`) -----------------------------
    def start_run(self, caller: Caller, thread_id: str | None, strategy: Strategy) -> Resolution:
        """A `user_message`: resume the thread, then start a new run in it."""
        resolved = self._resolve_active(caller, thread_id, None, strategy)
        resolution, thread = resolved.resolution, resolved.thread
        context = resolution.context
        now = self._clock()
        run_id = self._ids("run")
        self.store.add_run(RunRecord(run_id, thread.thread_id, caller.user_id, now))
        self.store.save_thread(replace(thread, current_run_id=run_id, updated_at=now))
        # the thread's current run, and this session's (another tab keeps its own): the
        # session is saved once, with it
        self._remember(caller, resolved.live, thread.thread_id, run_id)
        return Resolution(replace(context, run_id=run_id), resolution.transitions)

    def create_thread(
        self, caller: Caller, title: str | None, strategy: Strategy
    ) -> ExecutionContext:
        """A `create_thread`: a new chat thread that becomes the session's active thread."""
        session = self._load_session(caller)
        thread = self._new_thread(caller.user_id, title, ThreadKind.CHAT)
        self._remember(caller, session, thread.thread_id, None)
        return self._context(caller, thread.thread_id, None, Outcome.CREATED, strategy)

    def switch_thread(self, caller: Caller, thread_id: str, strategy: Strategy) -> ExecutionContext:
        """A `switch_thread`: the named thread (the user's own) becomes the session's active thread."""
        session = self._load_session(caller)
        thread = self._owned_thread(caller.user_id, thread_id)
        now = self._clock()
        self.store.save_thread(replace(thread, updated_at=now))
        self._remember(caller, session, thread.thread_id, thread.current_run_id)
        return self._context(
            caller, thread.thread_id, thread.current_run_id, Outcome.SWITCHED, strategy
        )

    def threads(self, user_id: str) -> list[ThreadRecord]:
        """The user's threads, most recent first."""
        return list(self.store.list_threads(user_id))

    def thread(self, user_id: str, thread_id: str) -> ThreadRecord:
        """One of the user's threads (`ThreadNotFound` otherwise)."""
        return self._owned_thread(user_id, thread_id)
