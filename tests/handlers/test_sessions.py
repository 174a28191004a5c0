"""Tests for handlers/sessions.py: context resolution under resume, mint and default-session."""

from __future__ import annotations

import pytest

from handlers import attributes as attr
from handlers.config import DEFAULT_SESSION_TTL_S, Strategy
from handlers.context import Caller, Outcome
from handlers.errors import HandlerError, RunNotFound, ThreadNotFound
from handlers.sessions import default_session_key
from handlers.store import ThreadKind

TTL = DEFAULT_SESSION_TTL_S


@pytest.fixture
def sessions(app):
    return app.sessions


def _thread_ids(sessions, user):
    return [t.thread_id for t in sessions.threads(user)]


def _span_names(exporter):
    return [s.name for s in exporter.get_finished_spans()]


# -- resume: the order of the fallbacks -----------------------------------------------------


def test_first_resolution_creates_a_chat_thread_recorded_as_thread_create(sessions):
    caller = sessions.open_session("alice")
    resolution = sessions.resume(caller)
    ctx = resolution.context
    assert ctx.outcome is Outcome.CREATED
    assert (ctx.user_id, ctx.session_id, ctx.strategy) == ("alice", caller.session_id, "resume")
    assert resolution.transitions == ((attr.THREAD_CREATE, ctx),)
    thread = sessions.store.get_thread(ctx.thread_id)
    assert thread is not None
    assert (thread.user_id, thread.kind) == ("alice", ThreadKind.CHAT)


def test_later_resolutions_resume_the_same_thread_without_transitions(sessions):
    caller = sessions.open_session("alice")
    first = sessions.resume(caller).context
    again = sessions.resume(caller)
    assert again.context.thread_id == first.thread_id
    assert again.context.outcome is Outcome.RESUMED
    assert again.transitions == ()
    assert _thread_ids(sessions, "alice") == [first.thread_id]


def test_session_active_thread_wins_over_the_users_latest_thread(sessions):
    one = sessions.open_session("alice")
    two = sessions.open_session("alice")
    a = sessions.create_thread(one, "A", Strategy.RESUME).thread_id
    b = sessions.create_thread(two, "B", Strategy.RESUME).thread_id
    assert sessions.store.latest_thread("alice").thread_id == b
    assert sessions.resume(one).context.thread_id == a
    assert sessions.resume(two).context.thread_id == b


def test_new_session_resumes_the_users_most_recent_chat_thread(sessions, clock):
    one = sessions.open_session("alice")
    sessions.create_thread(one, "A", Strategy.RESUME)
    clock.advance(5)
    b = sessions.create_thread(one, "B", Strategy.RESUME).thread_id
    fresh = sessions.open_session("alice")
    resolution = sessions.resume(fresh)
    assert resolution.context.thread_id == b
    assert resolution.context.outcome is Outcome.RESUMED
    assert resolution.transitions == ()


def test_client_named_thread_wins_and_is_recorded_as_a_switch(sessions):
    caller = sessions.open_session("alice")
    a = sessions.create_thread(caller, "A", Strategy.RESUME).thread_id
    b = sessions.create_thread(caller, "B", Strategy.RESUME).thread_id
    resolution = sessions.resume(caller, a)
    assert resolution.context.thread_id == a
    assert resolution.context.outcome is Outcome.SWITCHED
    assert resolution.transitions == ((attr.THREAD_SWITCH, resolution.context),)
    # The named thread is now the session's active thread.
    assert sessions.resume(caller).context.thread_id == a
    assert b != a


def test_naming_the_active_thread_is_not_a_switch(sessions):
    caller = sessions.open_session("alice")
    a = sessions.create_thread(caller, "A", Strategy.RESUME).thread_id
    resolution = sessions.resume(caller, a)
    assert resolution.context.outcome is Outcome.RESUMED
    assert resolution.transitions == ()


# -- ownership ------------------------------------------------------------------------------


def _refusal(call) -> str:
    with pytest.raises(ThreadNotFound) as info:
        call()
    assert info.value.code == "thread_not_found"
    return info.value.message


@pytest.mark.parametrize("strategy", list(Strategy))
def test_foreign_and_unknown_threads_are_refused_alike(sessions, strategy):
    """Same code and same message for both: never confirm that another user's thread exists."""
    bob = sessions.open_session("bob")
    bobs = sessions.create_thread(bob, "secret", Strategy.RESUME).thread_id
    alice = sessions.open_session("alice")
    mine = sessions.create_thread(alice, "mine", Strategy.RESUME).thread_id
    unknown = "thread_0_0_deadbeef"
    foreign = _refusal(lambda: sessions.resolve_quality(alice, strategy, bobs, None))
    missing = _refusal(lambda: sessions.resolve_quality(alice, strategy, unknown, None))
    assert foreign.replace(bobs, "ID") == missing.replace(unknown, "ID")
    assert foreign == f"thread {bobs!r} not found for this user"
    # Nothing created, nothing moved.
    assert _thread_ids(sessions, "alice") == [mine]
    assert _thread_ids(sessions, "bob") == [bobs]
    assert sessions.current(alice, Strategy.RESUME).thread_id == mine


def test_switch_and_user_message_refuse_foreign_threads(sessions):
    bob = sessions.open_session("bob")
    bobs = sessions.create_thread(bob, None, Strategy.RESUME).thread_id
    alice = sessions.open_session("alice")
    _refusal(lambda: sessions.switch_thread(alice, bobs, Strategy.RESUME))
    _refusal(lambda: sessions.start_run(alice, bobs, Strategy.RESUME))
    _refusal(lambda: sessions.thread("alice", bobs))
    assert sessions.threads("alice") == []
    assert sessions.store.get_thread(bobs).current_run_id is None


def test_another_users_session_id_is_refused(sessions):
    bob = sessions.open_session("bob")
    sessions.resume(bob)
    with pytest.raises(HandlerError) as info:
        sessions.open_session("alice", bob.session_id)
    assert info.value.code == "session_not_found"
    with pytest.raises(HandlerError) as info:
        sessions.resume(Caller("alice", bob.session_id))
    assert info.value.code == "session_not_found"


def test_the_default_session_key_cannot_be_resumed_as_a_session(sessions):
    """`{user}:default` is default-session's row, not a client session: resuming it would
    put the user's chat into the shadow thread."""
    caller = sessions.open_session("alice")
    shadow = sessions.default(caller).context.thread_id
    key = default_session_key("alice")
    assert sessions.store.get_session(key).active_thread_id == shadow
    with pytest.raises(HandlerError) as info:
        sessions.open_session("alice", key)
    assert info.value.code == "session_not_found"


def test_a_switch_by_naming_a_thread_makes_it_the_users_most_recent(sessions, clock):
    """A quality op naming another thread is recorded as `thread.switch`: a new session then
    resumes that thread, as it does after an explicit `switch_thread`."""
    caller = sessions.open_session("alice")
    a = sessions.create_thread(caller, "A", Strategy.RESUME).thread_id
    clock.advance(5)
    sessions.create_thread(caller, "B", Strategy.RESUME)
    clock.advance(5)
    assert sessions.resume(caller, a).context.outcome is Outcome.SWITCHED
    assert sessions.resume(sessions.open_session("alice")).context.thread_id == a


def test_a_refused_switch_leaves_the_users_most_recent_thread(sessions, clock):
    """Naming another thread with a run that is not its own is refused: nothing moves, the
    thread does not become the user's most recent."""
    caller = sessions.open_session("alice")
    sessions.create_thread(caller, "B", Strategy.RESUME)
    clock.advance(5)
    a = sessions.create_thread(caller, "A", Strategy.RESUME).thread_id
    run_of_a = sessions.start_run(caller, a, Strategy.RESUME).context.run_id
    b = next(t.thread_id for t in sessions.threads("alice") if t.title == "B")
    clock.advance(5)
    with pytest.raises(RunNotFound):
        sessions.resolve_quality(caller, Strategy.RESUME, b, run_of_a)
    assert sessions.resume(sessions.open_session("alice")).context.thread_id == a


def test_a_refused_run_creates_no_thread(sessions):
    """A user without threads naming a run: refused before a thread is created (one was
    stored, without its `thread.create`)."""
    caller = sessions.open_session("alice")
    with pytest.raises(RunNotFound):
        sessions.resolve_quality(caller, Strategy.RESUME, None, "run_bogus")
    assert sessions.threads("alice") == []


def test_own_session_id_is_resumed(sessions):
    caller = sessions.open_session("alice")
    thread = sessions.resume(caller).context.thread_id
    again = sessions.open_session("alice", caller.session_id)
    assert again == caller
    assert sessions.resume(again).context.thread_id == thread


# -- runs -----------------------------------------------------------------------------------


def test_user_message_starts_a_new_run_in_the_thread(sessions):
    caller = sessions.open_session("alice")
    first = sessions.start_run(caller, None, Strategy.RESUME)
    second = sessions.start_run(caller, None, Strategy.RESUME)
    assert [name for name, _ in first.transitions] == [attr.THREAD_CREATE]
    assert second.transitions == ()
    assert first.context.thread_id == second.context.thread_id
    assert first.context.run_id != second.context.run_id
    thread = sessions.store.get_thread(second.context.thread_id)
    assert thread.current_run_id == second.context.run_id
    run = sessions.store.get_run(second.context.run_id)
    assert (run.thread_id, run.user_id) == (thread.thread_id, "alice")


def test_other_messages_continue_the_threads_current_run(sessions):
    caller = sessions.open_session("alice")
    run = sessions.start_run(caller, None, Strategy.RESUME).context.run_id
    assert sessions.resume(caller).context.run_id == run
    assert sessions.current(caller, Strategy.RESUME).run_id == run


def test_two_tabs_in_one_thread_each_continue_their_own_run(sessions):
    """DESIGN.md rule 8 follows the current run per session: tab A's quality operation
    after tab B started a run continues A's run (it took B's: a run break by the contract,
    under `resume`). A session new to the thread takes the thread's current run."""
    tab_a, tab_b = sessions.open_session("alice"), sessions.open_session("alice")
    run_a = sessions.start_run(tab_a, None, Strategy.RESUME).context
    run_b = sessions.start_run(tab_b, None, Strategy.RESUME).context
    assert run_a.thread_id == run_b.thread_id and run_a.run_id != run_b.run_id
    assert sessions.resume(tab_a).context.run_id == run_a.run_id
    assert sessions.current(tab_a, Strategy.RESUME).run_id == run_a.run_id
    assert sessions.settle(tab_a, Strategy.RESUME).context.run_id == run_a.run_id
    assert sessions.resume(tab_b).context.run_id == run_b.run_id
    tab_c = sessions.open_session("alice")
    assert sessions.resume(tab_c).context.run_id == run_b.run_id  # the thread's current
    # a run the client names is answered in, without moving the session's own
    assert sessions.resume(tab_a, None, run_b.run_id).context.run_id == run_b.run_id
    assert sessions.resume(tab_a).context.run_id == run_a.run_id
    # a switch takes the thread's current run, as its event does
    other = sessions.create_thread(tab_a, "other", Strategy.RESUME)
    assert sessions.resume(tab_a).context.run_id is None
    back = sessions.switch_thread(tab_a, run_a.thread_id, Strategy.RESUME)
    assert back.run_id == run_b.run_id == sessions.resume(tab_a).context.run_id
    assert other.thread_id != run_a.thread_id


async def test_two_tabs_of_one_user_audit_with_no_run_break(tmp_path):
    """The same through the handlers, audited from the exported spans (the auditor counted
    a run break for each quality operation of the tab that did not start the last run)."""
    from auditor.audit import audit
    from handlers.app import QualityApp
    from handlers.config import Settings

    app = QualityApp.open(Settings(home=tmp_path, user="alice"))
    tabs = [app.sessions.open_session("alice") for _ in range(2)]
    chat = {"type": "user_message", "payload": {"text": "p99 doubled"}}
    metrics = {"type": "get_quality_metrics"}
    for first, second in ((0, 1), (1, 0), (0, 1)):
        await app.handle(tabs[first], chat)
        await app.handle(tabs[second], chat)
        await app.handle(tabs[first], metrics)
        await app.handle(tabs[second], metrics)
    app.close()
    report = audit([str(tmp_path / "traces" / "traces.jsonl")])
    assert (report["events"], report["breaks"], report["run_breaks"]) == (13, 0, 0)


async def test_an_error_reply_or_broadcast_gives_a_tab_without_a_run_its_run(tmp_path):
    """Rule 8: an event with a run makes it the session's when it had none. A tab whose
    error reply (or broadcast) was answered in the thread's run took another tab's newer
    run on its next message: a run break by the auditor under resume."""
    from auditor.audit import audit
    from handlers.app import QualityApp
    from handlers.config import Settings

    app = QualityApp.open(Settings(home=tmp_path, user="alice"))
    a, b = (app.sessions.open_session("alice") for _ in range(2))
    thread = (await app.handle(a, {"type": "create_thread"}))["thread_id"]
    await app.handle(b, {"type": "switch_thread", "thread_id": thread})  # no run yet
    first = await app.handle(a, {"type": "user_message", "payload": {"text": "hi"}})
    error = await app.handle(b, {"type": "bogus"})
    await app.handle(a, {"type": "user_message", "payload": {"text": "again"}})
    metrics = await app.handle(b, {"type": "get_quality_metrics"})
    app.close()
    assert error["run_id"] == metrics["run_id"] == first["run_id"]
    report = audit([str(tmp_path / "traces" / "traces.jsonl")])
    assert (report["events"], report["breaks"], report["run_breaks"]) == (6, 0, 0)


def test_a_new_thread_has_no_run_until_a_user_message(sessions):
    caller = sessions.open_session("alice")
    sessions.start_run(caller, None, Strategy.RESUME)
    created = sessions.create_thread(caller, "fresh", Strategy.RESUME)
    assert created.run_id is None
    assert sessions.resume(caller).context.run_id is None


def test_client_run_of_the_thread_is_accepted(sessions):
    caller = sessions.open_session("alice")
    old = sessions.start_run(caller, None, Strategy.RESUME).context
    sessions.start_run(caller, None, Strategy.RESUME)
    ctx = sessions.resume(caller, old.thread_id, old.run_id).context
    assert ctx.run_id == old.run_id


@pytest.mark.parametrize("strategy", [Strategy.RESUME, Strategy.DEFAULT_SESSION])
def test_client_run_of_another_thread_is_refused(sessions, strategy):
    caller = sessions.open_session("alice")
    a = sessions.start_run(caller, None, Strategy.RESUME).context
    sessions.create_thread(caller, "B", Strategy.RESUME)
    b = sessions.start_run(caller, None, Strategy.RESUME).context
    assert a.thread_id != b.thread_id
    with pytest.raises(RunNotFound) as info:
        sessions.resolve_quality(caller, strategy, b.thread_id, a.run_id)
    assert info.value.code == "run_not_found"
    with pytest.raises(RunNotFound):
        sessions.resolve_quality(caller, strategy, b.thread_id, "run_0_0_00000000")


async def test_user_message_then_quality_op_share_the_run(app):
    caller = app.sessions.open_session("alice")
    chat = await app.handle(caller, {"type": "user_message", "payload": {"text": "hello"}})
    metrics = await app.handle(caller, {"type": "get_quality_metrics"})
    chat2 = await app.handle(caller, {"type": "user_message", "payload": {"text": "again"}})
    assert metrics["run_id"] == chat["run_id"]
    assert chat2["run_id"] != chat["run_id"]
    assert {chat["thread_id"], metrics["thread_id"], chat2["thread_id"]} == {chat["thread_id"]}


# -- transitions through the router ---------------------------------------------------------


async def test_first_quality_op_records_thread_create_before_its_own_span(app_and_spans):
    app, exporter = app_and_spans
    caller = app.sessions.open_session("alice")
    out = await app.handle(caller, {"type": "get_quality_metrics"})
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [attr.THREAD_CREATE, attr.GET_METRICS]
    for span in spans:
        assert span.attributes[attr.THREAD_ID] == out["thread_id"]
        assert span.attributes[attr.OUTCOME] == "created"


async def test_quality_op_naming_another_thread_records_thread_switch(app_and_spans):
    app, exporter = app_and_spans
    caller = app.sessions.open_session("alice")
    a = (await app.handle(caller, {"type": "create_thread", "payload": {"title": "A"}}))[
        "thread_id"
    ]
    b = (await app.handle(caller, {"type": "create_thread", "payload": {"title": "B"}}))[
        "thread_id"
    ]
    exporter.clear()
    out = await app.handle(caller, {"type": "get_quality_metrics", "thread_id": a})
    assert out["thread_id"] == a
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [attr.THREAD_SWITCH, attr.GET_METRICS]
    assert [s.attributes[attr.OUTCOME] for s in spans] == ["switched", "switched"]
    assert all(s.attributes[attr.THREAD_ID] == a for s in spans)
    exporter.clear()
    follow = await app.handle(caller, {"type": "get_quality_metrics"})
    assert follow["thread_id"] == a != b
    assert _span_names(exporter) == [attr.GET_METRICS]


# -- TTL ------------------------------------------------------------------------------------


def _two_threads(sessions, clock):
    """Session `one` active in A; session `two` made B the user's latest thread."""
    one = sessions.open_session("alice")
    two = sessions.open_session("alice")
    a = sessions.create_thread(one, "A", Strategy.RESUME).thread_id
    clock.advance(1)
    b = sessions.create_thread(two, "B", Strategy.RESUME).thread_id
    return one, a, b


def test_session_keeps_its_active_thread_within_the_ttl(sessions, clock):
    one, a, _ = _two_threads(sessions, clock)
    clock.advance(TTL - 2)
    assert sessions.resume(one).context.thread_id == a


def test_session_forgets_its_active_thread_after_the_ttl(sessions, clock):
    one, a, b = _two_threads(sessions, clock)
    clock.advance(TTL + 1)
    assert sessions.current(one, Strategy.RESUME).thread_id == b
    assert sessions.resume(one).context.thread_id == b
    # The user's threads are kept.
    assert set(_thread_ids(sessions, "alice")) == {a, b}
    assert sessions.thread("alice", a).title == "A"


def test_an_expired_session_moving_to_another_thread_records_a_switch(sessions, clock):
    """After the TTL the session resumes the user's latest thread; if that is not where it was,
    the move is recorded as ``thread.switch`` so an audit does not count it as a break."""
    first = sessions.open_session("alice")
    was = sessions.start_run(first, None, Strategy.RESUME).context.thread_id
    second = sessions.open_session("alice")
    sessions.create_thread(second, "elsewhere", Strategy.RESUME)
    now = sessions.start_run(second, None, Strategy.RESUME).context.thread_id
    assert now != was
    clock.advance(TTL + 1)
    resolution = sessions.resume(first)
    assert resolution.context.thread_id == now
    assert resolution.context.outcome is Outcome.SWITCHED
    assert resolution.transitions == ((attr.THREAD_SWITCH, resolution.context),)


def test_an_expired_session_back_in_the_same_thread_is_resumed(sessions, clock):
    caller = sessions.open_session("alice")
    was = sessions.start_run(caller, None, Strategy.RESUME).context.thread_id
    clock.advance(TTL + 1)
    resolution = sessions.resume(caller)
    assert (resolution.context.thread_id, resolution.context.outcome) == (was, Outcome.RESUMED)
    assert resolution.transitions == ()


def test_activity_keeps_a_session_alive_past_one_ttl(sessions, clock):
    one, a, _ = _two_threads(sessions, clock)
    for _ in range(3):
        clock.advance(TTL - 2)
        assert sessions.resume(one).context.thread_id == a


def test_cli_session_is_stable_until_the_ttl_of_inactivity(sessions, clock):
    first = sessions.cli_session("alice")
    sessions.resume(first)
    clock.advance(TTL - 1)
    assert sessions.cli_session("alice") == first
    sessions.resume(first)
    clock.advance(TTL - 1)
    assert sessions.cli_session("alice") == first
    clock.advance(2)
    after = sessions.cli_session("alice")
    assert after.user_id == "alice"
    assert after.session_id != first.session_id
    assert sessions.cli_session("alice") == after


def test_cli_session_is_per_user(sessions):
    alice, bob = sessions.cli_session("alice"), sessions.cli_session("bob")
    assert alice.session_id != bob.session_id
    assert sessions.cli_session("alice") == alice


def test_cli_session_resumes_the_thread_after_expiry(sessions, clock):
    """A new CLI session after the TTL still lands in the user's latest thread."""
    first = sessions.cli_session("alice")
    thread = sessions.start_run(first, None, Strategy.RESUME).context.thread_id
    clock.advance(TTL + 1)
    after = sessions.cli_session("alice")
    assert after != first
    assert sessions.resume(after).context.thread_id == thread


# -- mint -----------------------------------------------------------------------------------


def test_mint_gives_a_fresh_thread_and_run_per_call_and_stores_nothing(sessions):
    caller = sessions.open_session("alice")
    opened = sessions.store.get_session(caller.session_id)  # stored at once, with no thread
    contexts = [sessions.mint(caller).context for _ in range(3)]
    assert len({c.thread_id for c in contexts}) == 3
    assert len({c.run_id for c in contexts}) == 3
    for ctx in contexts:
        assert (ctx.outcome, ctx.strategy) == (Outcome.MINTED, Strategy.MINT)
        assert sessions.store.get_thread(ctx.thread_id) is None
        assert sessions.store.get_run(ctx.run_id) is None
    assert sessions.threads("alice") == []
    assert sessions.store.get_session(caller.session_id) == opened
    assert opened is not None and opened.active_thread_id is None


def test_mint_keeps_what_the_client_sent(sessions):
    caller = sessions.open_session("alice")
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    partial = sessions.mint(caller, chat.thread_id).context
    assert partial.thread_id == chat.thread_id
    assert partial.run_id != chat.run_id
    assert partial.outcome is Outcome.MINTED
    full = sessions.mint(caller, chat.thread_id, chat.run_id).context
    assert (full.thread_id, full.run_id, full.outcome) == (
        chat.thread_id,
        chat.run_id,
        Outcome.RESUMED,
    )


def test_mint_checks_the_run_a_client_names_as_every_strategy_does(sessions):
    """The old handlers' isolated contexts, not another user's: a run must be the user's,
    and a run of the thread when one is named too."""
    alice, bob = sessions.open_session("alice"), sessions.open_session("bob")
    first = sessions.start_run(alice, None, Strategy.RESUME).context
    other = sessions.start_run(alice, None, Strategy.RESUME).context  # same thread, new run
    second = sessions.create_thread(alice, "second", Strategy.RESUME)
    bobs = sessions.start_run(bob, None, Strategy.RESUME).context
    with pytest.raises(RunNotFound):
        sessions.mint(alice, None, bobs.run_id)
    with pytest.raises(RunNotFound):
        sessions.mint(alice, first.thread_id, bobs.run_id)
    with pytest.raises(RunNotFound):
        sessions.mint(alice, second.thread_id, first.run_id)  # her run, another thread's
    with pytest.raises(RunNotFound):
        sessions.mint(alice, None, "run_0_0_00000000")
    alone = sessions.mint(alice, None, other.run_id).context  # her own run, no thread named
    assert (alone.run_id, alone.outcome) == (other.run_id, Outcome.MINTED)
    assert alone.thread_id not in (first.thread_id, second.thread_id)


def test_mint_ignores_the_active_thread(sessions):
    caller = sessions.open_session("alice")
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    minted = sessions.resolve_quality(caller, Strategy.MINT, None, None).context
    assert minted.thread_id != chat.thread_id
    assert sessions.resume(caller).context.thread_id == chat.thread_id


# -- default-session ------------------------------------------------------------------------


def test_default_session_uses_one_shadow_thread_per_user(sessions):
    one, two = sessions.open_session("alice"), sessions.open_session("alice")
    first = sessions.default(one).context
    again = sessions.default(two).context
    assert (again.thread_id, again.run_id) == (first.thread_id, first.run_id)
    assert (first.outcome, first.strategy) == (Outcome.DEFAULTED, Strategy.DEFAULT_SESSION)
    record = sessions.store.get_session(default_session_key("alice"))
    assert record is not None
    assert (record.session_id, record.active_thread_id) == ("alice:default", first.thread_id)
    shadow = sessions.store.get_thread(first.thread_id)
    assert (shadow.user_id, shadow.kind, shadow.current_run_id) == (
        "alice",
        ThreadKind.DEFAULT,
        first.run_id,
    )
    assert sessions.store.get_run(first.run_id).thread_id == first.thread_id
    bob = sessions.default(sessions.open_session("bob")).context
    assert bob.thread_id != first.thread_id


def test_shadow_thread_is_never_the_users_latest_chat_thread(sessions, clock):
    caller = sessions.open_session("alice")
    shadow = sessions.default(caller).context.thread_id
    assert sessions.store.latest_thread("alice") is None
    assert sessions.current(caller, Strategy.RESUME).thread_id is None
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    assert chat.thread_id != shadow
    clock.advance(10)
    assert sessions.default(caller).context.thread_id == shadow
    fresh = sessions.open_session("alice")
    assert sessions.resume(fresh).context.thread_id == chat.thread_id


def test_default_session_differs_from_the_chat_thread(sessions):
    caller = sessions.open_session("alice")
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    quality = sessions.resolve_quality(caller, Strategy.DEFAULT_SESSION, None, None).context
    assert quality.thread_id != chat.thread_id
    assert quality.outcome is Outcome.DEFAULTED


def test_default_session_honours_a_named_own_thread(sessions):
    caller = sessions.open_session("alice")
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    ctx = sessions.default(caller, chat.thread_id).context
    assert (ctx.thread_id, ctx.run_id, ctx.outcome) == (
        chat.thread_id,
        chat.run_id,
        Outcome.RESUMED,
    )


# -- current() ------------------------------------------------------------------------------


def test_current_never_creates_under_resume(sessions):
    caller = sessions.open_session("alice")
    ctx = sessions.current(caller, Strategy.RESUME)
    assert (ctx.thread_id, ctx.run_id) == (None, None)
    assert (ctx.user_id, ctx.session_id) == ("alice", caller.session_id)
    assert sessions.threads("alice") == []
    assert sessions.store.get_session(caller.session_id).active_thread_id is None


def test_a_new_session_can_be_resumed_before_anything_was_resolved_in_it(sessions):
    """The ID `session_ready` hands out is stored at once: a client that reconnects with
    it before sending anything (or after an error reply) resumes the same session."""
    caller = sessions.open_session("alice")
    assert sessions.open_session("alice", caller.session_id) == caller
    with pytest.raises(HandlerError):  # still only its own user's
        sessions.open_session("bob", caller.session_id)


def test_current_is_the_active_thread_and_its_run(sessions):
    caller = sessions.open_session("alice")
    chat = sessions.start_run(caller, None, Strategy.RESUME).context
    other = sessions.open_session("alice")
    sessions.create_thread(other, "elsewhere", Strategy.RESUME)
    ctx = sessions.current(caller, Strategy.RESUME)
    assert (ctx.thread_id, ctx.run_id, ctx.outcome) == (
        chat.thread_id,
        chat.run_id,
        Outcome.RESUMED,
    )


# -- settle(): where broadcasts and early error replies go ------------------------------------


def test_a_session_settles_where_its_first_broadcast_went(sessions):
    """A session whose first event is a broadcast (or an error reply) stays in that thread:
    a later message resumes it, not the thread another session made the user's latest."""
    first = sessions.open_session("alice")
    a = sessions.start_run(first, None, Strategy.RESUME).context.thread_id
    quiet = sessions.open_session("alice")
    settled = sessions.settle(quiet, Strategy.RESUME)
    assert (settled.context.thread_id, settled.transitions) == (a, ())
    sessions.create_thread(first, "B", Strategy.RESUME)  # the user's latest thread is now B
    later = sessions.resume(quiet)
    assert (later.context.thread_id, later.context.outcome, later.transitions) == (
        a,
        Outcome.RESUMED,
        (),
    )


def test_settling_an_expired_session_elsewhere_is_a_recorded_switch(sessions, clock):
    caller = sessions.open_session("alice")
    a = sessions.start_run(caller, None, Strategy.RESUME).context.thread_id
    clock.advance(TTL + 1)
    b = sessions.create_thread(sessions.open_session("alice"), "B", Strategy.RESUME).thread_id
    settled = sessions.settle(caller, Strategy.RESUME)
    assert settled.context.thread_id == b and settled.context.outcome is Outcome.SWITCHED
    assert settled.transitions == ((attr.THREAD_SWITCH, settled.context),)
    # the move is remembered: the next message resumes B with no second switch
    assert sessions.resume(caller).transitions == ()
    assert a != b


def test_settling_an_expired_session_does_not_revive_it(sessions, clock):
    """A broadcast is not activity: after one, the idle session still resumes the user's
    latest thread, as it would have without the broadcast."""
    caller = sessions.open_session("alice")
    sessions.start_run(caller, None, Strategy.RESUME)
    clock.advance(TTL + 1)
    other = sessions.open_session("alice")
    sessions.create_thread(other, "B", Strategy.RESUME)
    sessions.settle(caller, Strategy.RESUME)  # moves it to B, recorded
    c = sessions.create_thread(other, "C", Strategy.RESUME).thread_id
    later = sessions.resume(caller)
    assert later.context.thread_id == c and later.context.outcome is Outcome.SWITCHED


def test_settling_where_the_session_already_is_writes_nothing(sessions, clock):
    caller = sessions.open_session("alice")
    sessions.start_run(caller, None, Strategy.RESUME)
    before = sessions.store.get_session(caller.session_id)
    clock.advance(TTL + 1)  # a broadcast to an idle session is not activity
    settled = sessions.settle(caller, Strategy.RESUME)
    assert settled.transitions == ()
    assert sessions.store.get_session(caller.session_id) == before


def test_settle_creates_nothing_and_other_strategies_are_current(sessions):
    caller = sessions.open_session("alice")
    settled = sessions.settle(caller, Strategy.RESUME)
    assert (settled.context.thread_id, settled.transitions) == (None, ())
    assert sessions.threads("alice") == []
    minted = sessions.settle(caller, Strategy.MINT)
    assert minted.context.outcome is Outcome.MINTED and minted.transitions == ()


def test_current_under_mint_mints(sessions):
    caller = sessions.open_session("alice")
    sessions.start_run(caller, None, Strategy.RESUME)
    a, b = sessions.current(caller, Strategy.MINT), sessions.current(caller, Strategy.MINT)
    assert a.thread_id != b.thread_id
    assert a.outcome is b.outcome is Outcome.MINTED


# -- crafted session IDs --------------------------------------------------------------------


def test_a_client_cannot_open_a_session_under_an_unknown_or_reserved_id(sessions):
    """Only an existing session of the same user can be resumed by ID."""
    for session_id in (default_session_key("carol"), "sess_made_up"):
        with pytest.raises(HandlerError) as info:
            sessions.open_session("bob", session_id)
        assert info.value.code == "session_not_found"


def test_a_session_id_squatting_another_users_default_key_leaks_nothing(sessions):
    """Defence in depth: a caller built on ``carol:default`` by bob still sees nothing of carol's."""
    bob = Caller("bob", default_session_key("carol"))
    bobs = sessions.start_run(bob, None, Strategy.RESUME).context
    carol = sessions.open_session("carol")
    carols = [sessions.default(carol).context for _ in range(2)]
    assert {c.thread_id for c in carols}.isdisjoint({bobs.thread_id})
    assert {c.run_id for c in carols}.isdisjoint({bobs.run_id})
    for ctx in carols:
        assert sessions.store.get_thread(ctx.thread_id).user_id == "carol"
    # And bob, in that session, never resumes into carol's shadow thread: carol's write took
    # the key over, so bob is refused rather than answered in her context.
    for resolve in (
        lambda: sessions.resume(bob).context,
        lambda: sessions.current(bob, Strategy.RESUME),
    ):
        with pytest.raises(HandlerError) as info:
            resolve()
        assert info.value.code == "session_not_found"
    assert sessions.default(carol).context.thread_id not in {
        t.thread_id for t in sessions.threads("bob")
    }


def test_a_stale_shadow_record_pointing_at_a_chat_thread_is_not_used(sessions):
    """A user's own session named ``{user}:default`` must not turn a chat thread into the shadow."""
    alice = Caller("alice", default_session_key("alice"))
    chat = sessions.start_run(alice, None, Strategy.RESUME).context
    other = sessions.open_session("alice")
    shadow = sessions.default(other).context
    assert shadow.thread_id != chat.thread_id
    assert sessions.store.get_thread(shadow.thread_id).kind is ThreadKind.DEFAULT
