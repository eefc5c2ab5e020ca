"""The transitions that close the loop in real hands: recall and re-dispatch, dispatch only
to a staffed department, reopen for rework, phone intake and the village hand-off."""

from __future__ import annotations

import pytest

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.tests.conftest import HERE, Loop, staff
from civicgrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from civicgrid.people import services as people
from civicgrid.people.models import Role


def _actions(case: Case) -> list[str]:
    return list(case.events.order_by("seq").values_list("action", flat=True))


def test_recall_and_redispatch_to_another_department(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    assert case.department == loop.department
    before = case.events.count()
    events = services.case_redispatch(case=case, actor=loop.dispatcher, version=case.version,
                                      note="应由消防处理", department="FIRE")  # fmt: skip
    case.refresh_from_db()
    assert case.state == "dispatched" and case.department == loop.other_department
    assert case.events.count() == before + 2 == events[-1].seq
    recall, dispatch = events
    assert (recall.action, recall.from_state, recall.to_state) == ("recall", "dispatched", "filed")
    assert recall.note == "应由消防处理" and recall.payload["department"] == "URBAN"
    assert (dispatch.action, dispatch.payload["department"]) == ("dispatch", "FIRE")
    # The new department acts on it; the old one no longer may.
    with pytest.raises(PermissionDenied):
        loop.act(case, "dispose", loop.officer, result="x")
    loop.act(case, "dispose", loop.other_officer, result="已处置")
    assert case.state == "disposed"


def test_recall_alone_leaves_the_case_filed_without_department(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    loop.act(case, "request_extension", loop.officer, note="协调", working_days=2)
    loop.act(case, "recall", note="派错了")
    case.refresh_from_db()
    assert case.state == "filed" and case.department is None and case.extension_days is None
    assert case.deadline is not None  # the dispatch step's clock starts again


def test_redispatch_to_the_same_department_is_refused_and_changes_nothing(loop: Loop) -> None:
    case = loop.case_in("dispatched")
    before = (case.state, case.version, case.events.count())
    with pytest.raises(ValidationFailed) as refused:
        services.case_redispatch(case=case, actor=loop.dispatcher, version=case.version,
                                 note="x", department="URBAN")  # fmt: skip
    assert refused.value.field == "department"
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count()) == before


def test_recall_after_disposal_is_refused(loop: Loop) -> None:
    case = loop.case_in("disposed")
    with pytest.raises(ValidationFailed) as refused:
        services.case_redispatch(case=case, actor=loop.dispatcher, version=case.version,
                                 note="x", department="FIRE")  # fmt: skip
    assert refused.value.field == "action"
    assert Case.objects.get(pk=case.pk).state == "disposed"


def test_dispatch_to_a_department_without_active_officer_is_refused(loop: Loop) -> None:
    empty = people.department_create(township=loop.township, code="WATER", name="水务站",
                                     areas=["environment"], actor=None)  # fmt: skip
    case = loop.case_in("filed")
    with pytest.raises(ValidationFailed) as refused:
        loop.act(case, "dispatch", department="WATER")
    assert refused.value.field == "department" and "水务站" in str(refused.value)
    case.refresh_from_db()
    assert case.state == "filed" and case.events.count() == 2
    # An officer whose account is disabled does not count; an active one does.
    officer = staff("water1", Role.DEPARTMENT_OFFICER, department=empty)
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed):
        loop.act(case, "dispatch", department="WATER")
    staff("water2", Role.DEPARTMENT_OFFICER, department=empty)
    loop.act(case, "dispatch", department="WATER")
    assert case.state == "dispatched" and case.department == empty


def test_reopen_puts_the_same_case_back_into_rework(loop: Loop) -> None:
    reported = loop.resident_case_closed(rating=2)
    case = reported.case
    before = case.events.count()
    loop.act(case, "reopen", note="居民反映仍有垃圾")
    case.refresh_from_db()
    assert case.state == "dispatched" and case.department == loop.department
    assert case.rework_count == 1 and case.closed_at is None and case.deadline is not None
    assert case.rating is None  # the resident may rate the reworked result
    event = CaseEvent.objects.get(case=case, seq=before + 1)
    assert (event.action, event.from_state, event.to_state) == ("reopen", "closed", "dispatched")
    assert event.payload["previous_rating"] == 2


def test_reopen_refused_for_a_satisfied_rating_and_for_other_roles(loop: Loop) -> None:
    satisfied = loop.resident_case_closed(rating=4).case
    with pytest.raises(ValidationFailed):
        loop.act(satisfied, "reopen")
    unsatisfied = loop.resident_case_closed(rating=1, phone="13900002222").case
    for who in (loop.officer, loop.admin, loop.foreign_dispatcher):
        with pytest.raises(PermissionDenied):
            loop.act(unsatisfied, "reopen", who)
    stale = unsatisfied.version - 1
    with pytest.raises(Conflict):
        services.case_transition(case=unsatisfied, action="reopen", actor=loop.dispatcher,
                                 version=stale)  # fmt: skip
    assert Case.objects.get(pk=unsatisfied.pk).state == "closed"


def test_resident_rates_with_the_phone_given(loop: Loop) -> None:
    reported = services.case_report(actor=None, acting_as="resident", category="0702",
                                    description="路灯不亮", lon=HERE[0], lat=HERE[1],
                                    reporter_phone="139 0000 3333")  # fmt: skip
    case = reported.case
    for action in loop.PATH["closed"]:
        loop.act(case, action, None, **loop.PARAMS.get(action, {}))
    with pytest.raises(PermissionDenied):
        services.case_transition(case=case, action="rate", actor=None, acting_as="resident",
                                 version=case.version, rating=3, phone="13900004444")  # fmt: skip
    services.case_transition(case=case, action="rate", actor=None, acting_as="resident",
                             version=case.version, rating=3, phone="13900003333")  # fmt: skip
    assert case.rating == 3


def test_phone_intake_registers_the_caller_as_a_resident_reporter(loop: Loop) -> None:
    case = services.case_report(actor=loop.dispatcher, category="0702", description="来电：垃圾",
                                lon=HERE[0], lat=HERE[1], reporter_name="李四",
                                reporter_phone="13900005555").case  # fmt: skip
    assert case.state == "reported" and case.grid == loop.grid
    assert (case.reporter_id, case.reporter_kind) == (None, "resident")
    assert (case.reporter_name, case.reporter_phone) == ("李四", "13900005555")
    [event] = case.events.all()
    assert event.actor == loop.dispatcher and event.role == "dispatcher"
    assert event.payload["channel"] == "phone" and event.note == "phone"
    # Triaged as usual; any administrator of the grid verifies a resident's case.
    for action in ("file", "dispatch", "dispose"):
        loop.act(case, action, None, **loop.PARAMS.get(action, {}))
    loop.act(case, "verify_pass", loop.admin)
    assert case.state == "verified"


@pytest.mark.parametrize(
    ("given", "field"),
    [({"reporter_phone": "13900005555"}, "reporter_name"),
     ({"reporter_name": "李四"}, "reporter_phone")],
)  # fmt: skip
def test_phone_intake_needs_the_callers_name_and_phone(
    loop: Loop, given: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.case_report(actor=loop.dispatcher, category="0702", description="来电",
                             lon=HERE[0], lat=HERE[1], **given)  # fmt: skip
    assert refused.value.field == field
    assert not Case.objects.exists()


def test_phone_intake_only_in_the_dispatchers_township(loop: Loop) -> None:
    with pytest.raises(PermissionDenied):
        services.case_report(actor=loop.foreign_dispatcher, category="0702", description="来电",
                             lon=HERE[0], lat=HERE[1], reporter_name="李四",
                             reporter_phone="13900005555")  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.case_report(actor=loop.officer, category="0702", description="来电",
                             lon=HERE[0], lat=HERE[1], reporter_name="李四",
                             reporter_phone="13900005555")  # fmt: skip
    assert not Case.objects.exists()


def test_village_resolves_a_handed_off_case_locally(loop: Loop) -> None:
    case = loop.report()
    loop.act(case, "hand_to_village", loop.admin, note="邻里纠纷，村里调解")
    assert case.state == "local" and case.deadline is not None
    loop.act(case, "resolve_locally", loop.village_officer, result="村委会调解，双方和解")
    case.refresh_from_db()
    assert case.state == "closed" and case.closed_at is not None and case.deadline is None
    assert case.result == "村委会调解，双方和解"
    assert _actions(case) == ["report", "hand_to_village", "resolve_locally"]
    assert case.events.get(action="resolve_locally").payload["result"] == "村委会调解，双方和解"


def test_village_sends_a_handed_off_case_on_to_the_center(loop: Loop) -> None:
    case = loop.report()
    loop.act(case, "hand_to_village")
    loop.act(case, "send_to_center", loop.village_officer, note="需要执法部门")
    assert case.state == "reported"
    loop.act(case, "file")
    assert _actions(case) == ["report", "hand_to_village", "send_to_center", "file"]
    stale = Case.objects.get(pk=case.pk)
    stale.version -= 1
    with pytest.raises(Conflict):
        services.case_transition(case=stale, action="dispatch", actor=loop.dispatcher,
                                 version=stale.version)  # fmt: skip


def test_hand_off_needs_an_administrators_report_and_a_village_officer(loop: Loop) -> None:
    resident = services.case_report(actor=None, acting_as="resident", category="0702",
                                    description="x", lon=HERE[0], lat=HERE[1]).case  # fmt: skip
    with pytest.raises(ValidationFailed):
        loop.act(resident, "hand_to_village")
    loop.village_officer.is_active = False
    loop.village_officer.save(update_fields=["is_active"])
    case = loop.report()
    with pytest.raises(ValidationFailed) as refused:
        loop.act(case, "hand_to_village")
    assert "village officer" in str(refused.value)
    assert Case.objects.get(pk=case.pk).state == "reported"


def test_the_village_officer_and_the_department_are_told(loop: Loop) -> None:
    from civicgrid.cases.models import Notification

    case = loop.report()
    loop.act(case, "hand_to_village")
    told = Notification.objects.filter(case=case, kind="local")
    assert list(told.values_list("user__username", flat=True)) == ["vofficer1"]
    reopened = loop.resident_case_closed(rating=1).case
    loop.act(reopened, "reopen")
    told = Notification.objects.filter(case=reopened, kind="reopened")
    assert list(told.values_list("user__username", flat=True)) == ["urban1"]
