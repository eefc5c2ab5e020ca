"""Every row of the workflow table taken once, and refused for the wrong state, role,
scope or parameter: each success changes the state and writes exactly one ledger event;
each refusal changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from civicgrid.cases import services, workflow
from civicgrid.cases.models import Case, CaseEvent, Notification
from civicgrid.cases.tests.conftest import Loop
from civicgrid.core.errors import Conflict, PermissionDenied, ValidationFailed

ACCEPTED: list[tuple[str, str, str, dict[str, Any], str]] = [
    # from, action, actor, params, to
    ("reported", "file", "dispatcher", {"urgency": "urgent"}, "filed"),
    ("reported", "reject", "dispatcher", {"note": "不属于受理范围"}, "rejected"),
    ("filed", "dispatch", "dispatcher", {}, "dispatched"),
    ("filed", "dispatch", "dispatcher", {"department": "FIRE"}, "dispatched"),
    ("dispatched", "return", "officer", {"note": "不归我们管"}, "filed"),
    ("dispatched", "dispose", "officer", {"result": "已清理"}, "disposed"),
    ("dispatched", "request_extension", "officer", {"note": "需协调", "working_days": 3},
     "dispatched"),
    ("dispatched", "backlog", "dispatcher", {"note": "需专项资金"}, "dispatched"),
    ("disposed", "verify_pass", "admin", {}, "verified"),
    ("disposed", "verify_fail", "admin", {"note": "仍有垃圾"}, "dispatched"),
    ("verified", "close", "dispatcher", {}, "closed"),
    ("dispatched", "recall", "dispatcher", {"note": "派错部门"}, "filed"),
    ("reported", "hand_to_village", "dispatcher", {}, "local"),
    ("reported", "hand_to_village", "admin", {"note": "村里能解决"}, "local"),
    ("local", "resolve_locally", "village_officer", {"result": "村委会调解完毕"}, "closed"),
    ("local", "send_to_center", "village_officer", {"note": "村里解决不了"}, "reported"),
]  # fmt: skip


def _one_new_event(case: Case, before: int) -> CaseEvent:
    assert CaseEvent.objects.filter(case=case).count() == before + 1
    return CaseEvent.objects.filter(case=case).latest("seq")


@pytest.mark.parametrize(("source", "action", "who", "params", "target"), ACCEPTED)
def test_transition_moves_case_and_writes_one_event(
    loop: Loop, source: str, action: str, who: str, params: dict[str, Any], target: str
) -> None:
    case = loop.case_in(source)
    before, version = case.events.count(), case.version
    loop.act(case, action, getattr(loop, who), **params)
    case.refresh_from_db()
    assert case.state == target
    assert case.version == version + 1
    event = _one_new_event(case, before)
    assert (event.action, event.from_state, event.to_state) == (action, source, target)
    assert event.actor == getattr(loop, who)


def test_report_writes_first_event_and_a_deadline(loop: Loop) -> None:
    case = loop.report()
    assert case.state == "reported" and case.grid == loop.grid and case.deadline is not None
    [event] = case.events.all()
    assert (event.seq, event.action, event.from_state, event.prev_hash) == (1, "report", "", "")


def test_resolve_on_the_spot_closes_at_once(loop: Loop) -> None:
    case = loop.report(on_the_spot=True, measures="劝导当事人自行清理", complied=False)
    assert case.state == "closed" and case.closed_at is not None and case.deadline is None
    [event] = case.events.all()
    assert event.action == "resolve_on_spot"
    assert event.payload["measures"] == "劝导当事人自行清理" and event.payload["complied"] is False


@pytest.mark.parametrize(
    ("given", "field"),
    [({"complied": True}, "measures"), ({"measures": "  "}, "measures"),
     ({"measures": "劝导"}, "complied")],
)  # fmt: skip
def test_resolve_on_the_spot_needs_what_was_done_and_compliance(
    loop: Loop, given: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        loop.report(on_the_spot=True, **given)
    assert refused.value.field == field
    assert not Case.objects.exists()


def test_merge_links_the_duplicate_and_informs_both_reporters(loop: Loop) -> None:
    first = loop.report()
    second = loop.report(actor=loop.admin)
    loop.act(second, "merge", into=first.number)
    second.refresh_from_db()
    assert second.state == "merged" and second.merged_into == first
    assert Notification.objects.filter(case=second, kind="merged", user=loop.admin).count() == 1


def test_dispatch_routes_to_the_category_department(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    assert case.department == loop.department
    assert Notification.objects.filter(user=loop.officer, kind="dispatched").count() == 1


def test_extension_approved_moves_the_deadline(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    old = case.deadline
    loop.act(case, "request_extension", loop.officer, note="等待配件", working_days=2)
    assert Notification.objects.filter(user=loop.dispatcher, kind="extension").exists()
    loop.act(case, "approve_extension")
    assert case.deadline > old and case.extension_days is None
    assert case.events.latest("seq").payload["working_days"] == 2


def test_extension_refused_keeps_the_deadline(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    old = case.deadline
    loop.act(case, "request_extension", loop.officer, note="等待配件", working_days=2)
    loop.act(case, "refuse_extension", note="按时完成")
    assert case.deadline == old and case.extension_days is None


def test_backlog_stops_the_clock(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    loop.act(case, "backlog", note="需专项资金")
    assert case.on_backlog and case.deadline is None


def test_verify_fail_counts_rework_and_sets_a_new_deadline(loop: Loop) -> None:
    case = loop.case_in("disposed")
    loop.act(case, "verify_fail", note="未清理干净")
    assert case.state == "dispatched" and case.rework_count == 1 and case.deadline is not None


def test_return_counts_against_dispatch_and_clears_department(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    loop.act(case, "return", loop.officer, note="不归我们管")
    assert case.return_count == 1 and case.department is None


def test_dispute_categories_are_verified_by_the_assessor(loop: Loop) -> None:
    from civicgrid.people.services import department_create

    department_create(township=loop.township, code="PETITION", name="综治", areas=["stability"],
                      actor=None)  # fmt: skip
    officer = loop.officer
    officer.department = loop.township.departments.get(code="PETITION")
    officer.save()
    case = loop.report("1301")
    loop.act(case, "file")
    loop.act(case, "dispatch")
    loop.act(case, "dispose", officer, result="已调解")
    with pytest.raises(PermissionDenied):
        loop.act(case, "verify_pass", loop.admin)
    loop.act(case, "verify_pass", loop.assessor)
    assert case.state == "verified"


def test_resident_rates_once_with_the_follow_token(loop: Loop) -> None:
    reported = services.case_report(actor=None, acting_as="resident", category="0702",
                                    description="路边垃圾", lon=113.005, lat=23.01,
                                    reporter_phone="13900001111")  # fmt: skip
    case = reported.case
    for action in loop.PATH["closed"]:
        who = loop.dispatcher if action == "verify_pass" else None
        if action == "verify_pass":
            who = loop.admin  # no staff reporter: any administrator of the grid verifies
        loop.act(case, action, who, **loop.PARAMS.get(action, {}))
    with pytest.raises(PermissionDenied):
        services.case_transition(case=case, action="rate", actor=None, acting_as="resident",
                                 version=case.version, rating=5, token="wrong")  # fmt: skip
    services.case_transition(case=case, action="rate", actor=None, acting_as="resident",
                             version=case.version, rating=4, token=reported.follow_token,
                             comment="很快")  # fmt: skip
    assert case.rating == 4 and case.state == "closed"
    with pytest.raises(ValidationFailed) as refused:
        services.case_transition(
            case=case,
            action="rate",
            actor=None,
            acting_as="resident",
            version=case.version,
            rating=5,
            token=reported.follow_token,
        )
    assert refused.value.field == "rating"


REFUSED: list[tuple[str, str, str, dict[str, Any], type[Exception], str | None]] = [
    # illegal from this state (422, field action)
    ("reported", "dispatch", "dispatcher", {}, ValidationFailed, "action"),
    ("reported", "close", "dispatcher", {}, ValidationFailed, "action"),
    ("filed", "dispose", "officer", {"result": "x"}, ValidationFailed, "action"),
    ("closed", "file", "dispatcher", {}, ValidationFailed, "action"),
    ("disposed", "close", "dispatcher", {}, ValidationFailed, "action"),
    ("verified", "verify_fail", "admin", {"note": "x"}, ValidationFailed, "action"),
    ("reported", "approve_extension", "dispatcher", {}, ValidationFailed, "action"),
    ("reported", "nonsense", "dispatcher", {}, ValidationFailed, "action"),
    ("reported", "report", "dispatcher", {}, ValidationFailed, "action"),
    # wrong role (403)
    ("reported", "file", "admin", {}, PermissionDenied, None),
    ("filed", "dispatch", "officer", {}, PermissionDenied, None),
    ("dispatched", "dispose", "dispatcher", {"result": "x"}, PermissionDenied, None),
    ("verified", "close", "officer", {}, PermissionDenied, None),
    ("disposed", "verify_pass", "dispatcher", {}, PermissionDenied, None),
    # outside scope (403 in the service; the API answers 404 before)
    ("reported", "file", "foreign_dispatcher", {}, PermissionDenied, None),
    ("dispatched", "dispose", "other_officer", {"result": "x"}, PermissionDenied, None),
    ("disposed", "verify_pass", "far_admin", {}, PermissionDenied, None),
    # missing or bad parameters (422 naming the field)
    ("reported", "reject", "dispatcher", {}, ValidationFailed, "note"),
    ("reported", "merge", "dispatcher", {}, ValidationFailed, "into"),
    ("reported", "merge", "dispatcher", {"into": "NOPE"}, ValidationFailed, "into"),
    ("reported", "file", "dispatcher", {"urgency": "whenever"}, ValidationFailed, "urgency"),
    ("reported", "file", "dispatcher", {"category": "07"}, ValidationFailed, "category"),
    ("filed", "dispatch", "dispatcher", {"department": "NOPE"}, ValidationFailed, "department"),
    ("dispatched", "dispose", "officer", {}, ValidationFailed, "result"),
    ("dispatched", "return", "officer", {}, ValidationFailed, "note"),
    ("dispatched", "request_extension", "officer", {"note": "x", "working_days": 99},
     ValidationFailed, "working_days"),
    ("dispatched", "refuse_extension", "dispatcher", {"note": "x"}, ValidationFailed, "action"),
    ("disposed", "verify_fail", "admin", {}, ValidationFailed, "note"),
    ("closed", "rate", "dispatcher", {"rating": 5}, PermissionDenied, None),
    ("dispatched", "mark_overdue", "dispatcher", {}, PermissionDenied, None),
    # recall: only from dispatched, only a dispatcher of the township, with a reason
    ("disposed", "recall", "dispatcher", {"note": "x"}, ValidationFailed, "action"),
    ("dispatched", "recall", "officer", {"note": "x"}, PermissionDenied, None),
    ("dispatched", "recall", "foreign_dispatcher", {"note": "x"}, PermissionDenied, None),
    ("dispatched", "recall", "dispatcher", {}, ValidationFailed, "note"),
    # reopen: a closed case of an administrator is not a resident's unsatisfied one
    ("closed", "reopen", "dispatcher", {}, ValidationFailed, "action"),
    ("dispatched", "reopen", "dispatcher", {}, ValidationFailed, "action"),
    # hand to the village: from reported only, by a dispatcher or the reporter
    ("filed", "hand_to_village", "dispatcher", {}, ValidationFailed, "action"),
    ("reported", "hand_to_village", "officer", {}, PermissionDenied, None),
    ("reported", "hand_to_village", "village_officer", {}, PermissionDenied, None),
    ("reported", "hand_to_village", "far_admin", {}, PermissionDenied, None),
    # the village officer of the case's village resolves or sends on
    ("local", "resolve_locally", "village_officer", {}, ValidationFailed, "result"),
    ("local", "resolve_locally", "far_village_officer", {"result": "x"}, PermissionDenied,
     None),
    ("local", "resolve_locally", "dispatcher", {"result": "x"}, PermissionDenied, None),
    ("local", "send_to_center", "village_officer", {}, ValidationFailed, "note"),
    ("local", "file", "dispatcher", {}, ValidationFailed, "action"),
    ("reported", "resolve_locally", "village_officer", {"result": "x"}, ValidationFailed,
     "action"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "action", "who", "params", "error", "field"), REFUSED)
def test_refusal_changes_nothing(
    loop: Loop,
    source: str,
    action: str,
    who: str,
    params: dict[str, Any],
    error: type[Exception],
    field: str | None,
) -> None:
    case = loop.case_in(source)
    before = (case.state, case.version, case.events.count(), case.deadline)
    with pytest.raises(error) as refused:
        loop.act(case, action, getattr(loop, who), **params)
    if field is not None:
        assert getattr(refused.value, "field", None) == field
    assert str(refused.value)  # a reason a person can read
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count(), case.deadline) == before


def test_illegal_transition_names_the_possible_actions(loop: Loop) -> None:
    case = loop.report()
    with pytest.raises(ValidationFailed) as refused:
        loop.act(case, "close")
    assert "file" in str(refused.value) and "reject" in str(refused.value)


def test_stale_version_is_a_conflict_and_changes_nothing(loop: Loop) -> None:
    case = loop.report()
    stale = Case.objects.get(pk=case.pk)
    loop.act(case, "file")
    with pytest.raises(Conflict) as refused:
        services.case_transition(case=stale, action="reject", actor=loop.dispatcher2,
                                 version=stale.version, note="重复")  # fmt: skip
    assert refused.value.field == "version"
    case.refresh_from_db()
    assert case.state == "filed" and case.events.count() == 2


def test_every_table_row_is_covered() -> None:
    covered = {(s, a) for s, a, *_ in ACCEPTED} | {
        ("reported", "merge"), ("dispatched", "approve_extension"),
        ("dispatched", "refuse_extension"), ("closed", "rate"), ("closed", "reopen"),
    }  # fmt: skip
    rows = {
        (t.source.value, t.action.value)
        for t in workflow.TRANSITIONS
        if t.source is not None and t.action != "mark_overdue"
    }
    assert rows <= covered


@pytest.mark.parametrize(("source", "action", "who", "params", "target"), ACCEPTED)
def test_callers_object_matches_the_stored_row_after_a_transition(
    loop: Loop, source: str, action: str, who: str, params: dict[str, Any], target: str
) -> None:
    case = loop.case_in(source)
    loop.act(case, action, getattr(loop, who), **params)
    stored = Case.objects.get(pk=case.pk)
    fields = [f.attname for f in Case._meta.concrete_fields if f.attname != "updated_at"]
    assert {f: getattr(case, f) for f in fields} == {f: getattr(stored, f) for f in fields}
