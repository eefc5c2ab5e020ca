"""Random action sequences by several actors against the one guarded service.

Whatever happens: no transition outside the table is accepted, a refused action changes
nothing, each accepted one adds exactly one event, a photo is accepted only from the party
whose step it is (one event, version unchanged), the version counts the other events, and
every hash chain stays valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from civicgrid import testing
from civicgrid.cases import services, workflow
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core.errors import DomainError

PARAMS: dict[str, dict[str, Any]] = {
    "file": {},
    "reject": {"note": "不受理"},
    "dispatch": {},
    "return": {"note": "非本部门"},
    "dispose": {"result": "已处置"},
    "request_extension": {"note": "协调中", "working_days": 2},
    "approve_extension": {},
    "refuse_extension": {"note": "按期办结"},
    "backlog": {"note": "挂账"},
    "verify_pass": {},
    "verify_fail": {"note": "未整改到位"},
    "close": {},
    "rate": {"rating": 5},
    "mark_overdue": {},
    "recall": {"note": "派错部门"},
    "reopen": {"note": "居民不满意"},
    "hand_to_village": {},
    "resolve_locally": {"result": "村里已解决"},
    "send_to_center": {"note": "村里解决不了"},
}
ACTORS = ["admin", "far_admin", "dispatcher", "dispatcher2", "officer", "other_officer",
          "assessor", "foreign_dispatcher", "village_officer", "far_village_officer"]  # fmt: skip


def test_random_action_sequences_keep_the_ledger_consistent(loop: Loop, tmp_path: Path) -> None:
    jpeg = testing.jpeg((16, 12))

    class CaseMachine(RuleBasedStateMachine):
        cases = Bundle("cases")

        def __init__(self) -> None:
            super().__init__()
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.accepted = 0

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

        @rule(target=cases, category=st.sampled_from(["0702", "0901", "1301"]))
        def report(self, category: str) -> int:
            return loop.report(category).pk

        @rule(
            case_id=cases,
            action=st.sampled_from(list(PARAMS)),
            who=st.sampled_from(ACTORS),
            stale=st.booleans(),
        )
        def act(self, case_id: int, action: str, who: str, stale: bool) -> None:
            case = Case.objects.get(pk=case_id)
            before = (case.state, case.version, case.events.count())
            version = case.version - 1 if stale else case.version
            try:
                services.case_transition(case=case, action=action, actor=getattr(loop, who),
                                         version=version, **PARAMS[action])  # fmt: skip
            except DomainError:
                case.refresh_from_db()
                assert (case.state, case.version, case.events.count()) == before
                return
            assert not stale
            row = workflow.transition_for(before[0], action)
            assert row is not None, f"{action} accepted from {before[0]}"
            actor = getattr(loop, who)
            assert any(actor.has_role(role) for role in row.roles)
            case.refresh_from_db()
            assert case.state == row.target
            assert (case.version, case.events.count()) == (before[1] + 1, before[2] + 1)
            self.accepted += 1

        @rule(case_id=cases, who=st.sampled_from(ACTORS), kind=st.sampled_from(["before", "after"]))
        def photo(self, case_id: int, who: str, kind: str) -> None:
            case = Case.objects.get(pk=case_id)
            before = (case.state, case.version, case.events.count())
            actor = getattr(loop, who)
            try:
                services.case_photo_add(case=case, kind=kind, data=jpeg, actor=actor)
            except DomainError:
                case.refresh_from_db()
                assert (case.state, case.version, case.events.count()) == before
                return
            step = workflow.PHOTO_STEPS.get(workflow.State(before[0]))
            assert step is not None and step.kind == kind, f"{kind} photo in {before[0]}"
            assert any(actor.has_role(role) for role in step.roles)
            case.refresh_from_db()
            assert (case.state, case.version, case.events.count()) == (*before[:2], before[2] + 1)

        @invariant()
        def chains_are_valid_and_versions_count_events(self) -> None:
            _checked, broken = services.ledger_verify()
            assert broken is None, broken
            for case in Case.objects.all():
                last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
                assert last is not None and last.to_state == case.state
                # Photo events leave the version alone; every other event bumps it.
                assert case.events.exclude(action="add_photo").count() == case.version

    CaseMachine.TestCase.settings = settings(
        max_examples=10,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    with override_settings(MEDIA_ROOT=tmp_path):
        CaseMachine.TestCase().runTest()
