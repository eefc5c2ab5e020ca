"""The transition table itself, without a database."""

from __future__ import annotations

from civicgrid.cases import workflow
from civicgrid.cases.workflow import Action, Actor, State


def test_the_table_has_one_row_per_state_and_action() -> None:
    keys = [(t.source, t.action) for t in workflow.TRANSITIONS]
    assert len(keys) == len(set(keys))


def test_every_state_is_reachable_from_a_report() -> None:
    reached = {State.REPORTED, State.CLOSED}
    frontier = list(reached)
    while frontier:
        state = frontier.pop()
        for t in workflow.actions_from(state):
            if t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(State)


def test_closed_states_offer_only_rating_and_the_dispatchers_reopen() -> None:
    for state in workflow.CLOSED_STATES:
        assert {t.action for t in workflow.actions_from(state)} <= {Action.RATE, Action.REOPEN}
    reopen = workflow.transition_for(State.CLOSED, Action.REOPEN)
    assert reopen.roles == {Actor.DISPATCHER} and reopen.target == State.DISPATCHED


def test_loop_transitions_name_who_takes_them() -> None:
    recall = workflow.transition_for(State.DISPATCHED, Action.RECALL)
    assert (recall.roles, recall.target, recall.requires) == ({Actor.DISPATCHER}, State.FILED,
                                                              ("note",))  # fmt: skip
    hand = workflow.transition_for(State.REPORTED, Action.HAND_TO_VILLAGE)
    assert hand.target == State.LOCAL and Actor.DISPATCHER in hand.roles
    for action, target in ((Action.RESOLVE_LOCALLY, State.CLOSED),
                           (Action.SEND_TO_CENTER, State.REPORTED)):  # fmt: skip
        row = workflow.transition_for(State.LOCAL, action)
        assert row.roles == {Actor.VILLAGE_OFFICER} and row.target == target
    assert Actor.DISPATCHER in workflow.transition_for(None, Action.REPORT).roles
    assert (
        workflow.Check.DEPARTMENT_STAFFED
        in workflow.transition_for(State.FILED, Action.DISPATCH).checks
    )


def test_design_table_roles() -> None:
    assert workflow.transition_for(State.FILED, Action.DISPATCH).roles == {Actor.DISPATCHER}
    assert workflow.transition_for(State.DISPATCHED, Action.DISPOSE).roles == {
        Actor.DEPARTMENT_OFFICER
    }
    assert Actor.ASSESSOR in workflow.transition_for(State.DISPOSED, Action.VERIFY_PASS).roles
    assert workflow.transition_for(State.CLOSED, Action.RATE).roles == {Actor.RESIDENT}
    assert workflow.transition_for(None, Action.RESOLVE_ON_SPOT).target == State.CLOSED
    assert workflow.transition_for(State.DISPOSED, Action.VERIFY_FAIL).target == State.DISPATCHED


def test_unknown_pairs_have_no_transition() -> None:
    assert workflow.transition_for(State.REPORTED, Action.CLOSE) is None


def test_open_and_closed_partition_the_states() -> None:
    assert set(State) == workflow.OPEN_STATES | workflow.CLOSED_STATES
    assert not workflow.OPEN_STATES & workflow.CLOSED_STATES


def test_table_draws_as_dot() -> None:
    assert "reported -> filed" in workflow.as_dot()
