"""Templates and versions, visits, licence pre-fail, notices, escalation exactly once, replay."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from civicgrid.inspections import selectors, services
from civicgrid.inspections.defaults import TEMPLATES
from civicgrid.inspections.models import Finding, FindingState, Item, Template, Visit
from civicgrid.inspections.tests.conftest import World, all_pass
from civicgrid.people.areas import AREAS
from civicgrid.testing import jpeg

pytestmark = pytest.mark.django_db
# A fixed moment a few days back, mid-morning in Shanghai (never near midnight).
NOW = timezone.make_aware(dt.datetime.combine(
    timezone.localdate() - dt.timedelta(days=3), dt.time(10, 0)))  # fmt: skip


def test_every_management_area_has_a_bilingual_default_checklist(db) -> None:
    templates = {t.area: t for t in Template.objects.filter(active=True)}
    assert set(templates) == {a.number for a in AREAS} == set(TEMPLATES)
    for template in templates.values():
        items = list(template.items.all())
        assert items and template.version == 1 and template.title_zh
        for item in items:
            assert item.text_en and item.text_zh and item.basis_en and item.basis_zh
            if item.severity != "advice":
                assert item.category, item.code


def test_failed_items_open_cases_in_existing_sub_categories(world: World) -> None:
    from civicgrid.cases.models import Category

    codes = set(Category.objects.filter(parent__isnull=False).values_list("code", flat=True))
    used = set(Item.objects.exclude(category="").values_list("category", flat=True))
    assert used <= codes, used - codes


def test_a_new_version_leaves_an_old_visit_with_the_items_it_was_filled_with(world: World) -> None:
    visit = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="01",
                                  answers=all_pass("01"), now=NOW)  # fmt: skip
    old = Template.objects.get(area="01", active=True)
    new = services.template_new_version(template=old, actor=None)
    changed = new.items.get(code="01.01")
    changed.text_en = "The rental is registered and the register is on the wall."
    changed.save()
    new.items.filter(code="01.05").delete()
    old.refresh_from_db()
    assert (old.active, new.active, new.version) == (False, True, 2)
    shown = selectors.visit_for(world.admin, visit.number)
    assert shown is not None and shown.template.version == 1
    texts = [a.item.text_en for a in shown.answers.all()]
    assert "The rental is registered with the grid." in texts and len(texts) == 5
    later = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="01",
                                  answers=all_pass("01"), now=NOW)  # fmt: skip
    assert later.template == new and later.answers.count() == 4


def test_a_visit_without_field_rights_is_refused(world: World) -> None:
    with pytest.raises(PermissionDenied) as refused:
        services.visit_record(actor=world.novice, premises_kind="house",
                              premises_id=world.house.pk, area="01",
                              answers=all_pass("01"))  # fmt: skip
    assert refused.value.code == "no_field_rights"
    assert not Visit.objects.exists()


def test_another_grids_premises_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        services.visit_record(actor=world.admin, premises_kind="legal_person",
                              premises_id=world.far_shop.pk, area="14",
                              answers=all_pass("14"))  # fmt: skip
    assert not Visit.objects.exists()


def test_a_missing_answer_is_named_and_nothing_is_stored(world: World) -> None:
    answers = [a for a in all_pass("02") if a.item != "02.03"]
    with pytest.raises(ValidationFailed) as refused:
        services.visit_record(actor=world.admin, premises_kind="house",
                              premises_id=world.house.pk, area="02", answers=answers)  # fmt: skip
    assert refused.value.field == "answers" and "02.03" in refused.value.message
    bad = all_pass("02", **{"02.03": "many"})
    with pytest.raises(ValidationFailed) as refused:
        services.visit_record(actor=world.admin, premises_kind="house",
                              premises_id=world.house.pk, area="02", answers=bad)  # fmt: skip
    assert refused.value.field == "answers.2.value"
    assert not Visit.objects.exists()


def test_an_expired_licence_pre_fails_its_item_whatever_the_answer(world: World) -> None:
    visit = services.visit_record(actor=world.admin, premises_kind="legal_person",
                                  premises_id=world.restaurant.pk, area="03",
                                  answers=all_pass("03"), now=NOW)  # fmt: skip
    answer = visit.answers.get(item__code="03.01")
    assert answer.value == "yes" and answer.passed is False
    assert "JY-1" in answer.prefailed and "expired" in answer.prefailed
    finding = visit.findings.get()
    assert finding.item.code == "03.01" and finding.state == FindingState.OPEN
    assert finding.notice_number.startswith("RN") and finding.rectify_by > NOW
    # The business licence is valid: commercial registration passes.
    ok = services.visit_record(actor=world.admin, premises_kind="legal_person",
                               premises_id=world.restaurant.pk, area="14",
                               answers=all_pass("14"), now=NOW)  # fmt: skip
    assert ok.failed == 0 and not ok.findings.exists()


def test_a_site_without_a_permit_pre_fails_the_permit_item(world: World) -> None:
    world.site.permit_number = ""
    world.site.save()
    visit = services.visit_record(actor=world.admin, premises_kind="site",
                                  premises_id=world.site.pk, area="12",
                                  answers=all_pass("12"), now=NOW)  # fmt: skip
    answer = visit.answers.get(item__code="12.01")
    assert answer.passed is False and "none in the registry" in answer.prefailed
    # A serious item: the case is opened at once.
    finding = visit.findings.get()
    assert finding.state == FindingState.ESCALATED and finding.case is not None


def _rectify_notice(world: World) -> Finding:
    visit = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="02",
                                  answers=all_pass("02", **{"02.02": "no"}), now=NOW)  # fmt: skip
    return visit.findings.get()


def test_a_notice_deadline_counts_working_days(world: World) -> None:
    finding = _rectify_notice(world)
    from civicgrid.cases.services import calendar_for

    expected = calendar_for(world.township.pk).add_working_days(NOW, 3)
    assert finding.rectify_by == expected and finding.severity == "rectify"


def test_an_unrectified_notice_becomes_one_case_however_often_the_sweep_runs(world: World) -> None:
    finding = _rectify_notice(world)
    assert services.findings_sweep(now=finding.rectify_by - dt.timedelta(minutes=1)) == 0
    after = finding.rectify_by + dt.timedelta(hours=1)
    assert services.findings_sweep(now=after) == 1
    assert services.findings_sweep(now=after) == 0
    finding.refresh_from_db()
    assert finding.state == FindingState.ESCALATED
    case = Case.objects.get()
    assert finding.case == case and case.category.code == "0202"
    assert list(case.inspection_findings.all()) == [finding]
    event = CaseEvent.objects.get(case=case)
    assert event.payload["origin"]["inspection"] == finding.visit.number
    assert event.payload["origin"]["notice"] == finding.notice_number
    assert finding.visit.number in case.description


def test_a_serious_finding_becomes_a_case_at_once_with_its_photo(world: World) -> None:
    answers = all_pass("02", **{"02.01": "no"})
    answers[0] = services.AnswerIn(item="02.01", value="no", photo=jpeg(colour=(200, 30, 30)))
    visit = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="02", answers=answers,
                                  now=NOW)  # fmt: skip
    finding = visit.findings.get()
    assert finding.state == FindingState.ESCALATED
    case = finding.case
    assert case is not None and case.urgency == "urgent" and case.category.code == "0201"
    assert case.attachments.count() == 1
    assert services.findings_sweep(now=NOW + dt.timedelta(days=30)) == 0
    assert Case.objects.count() == 1


def test_a_re_inspection_that_passes_rectifies_the_notice(world: World) -> None:
    finding = _rectify_notice(world)
    again = services.visit_record(actor=world.admin, premises_kind="house",
                                  premises_id=world.house.pk, area="02", answers=all_pass("02"),
                                  now=NOW + dt.timedelta(days=1))  # fmt: skip
    finding.refresh_from_db()
    assert finding.state == FindingState.RECTIFIED and finding.rectified_visit == again
    assert finding.rectified_in_time() is True
    assert services.findings_sweep(now=NOW + dt.timedelta(days=30)) == 0
    assert not Case.objects.exists()


def test_an_offline_replay_stores_the_visit_once(world: World) -> None:
    body = {"premises": world.house.pk, "area": "01"}
    kwargs = dict(premises_kind="house", premises_id=world.house.pk, area="01", now=NOW)
    first, created = services.visit_record_once(actor=world.admin, key="k-1", body=body,
                                                answers=all_pass("01"), **kwargs)  # fmt: skip
    again, created_again = services.visit_record_once(actor=world.admin, key="k-1", body=body,
                                                      answers=all_pass("01"), **kwargs)  # fmt: skip
    assert (created, created_again) == (True, False) and first.pk == again.pk
    assert Visit.objects.count() == 1
    with pytest.raises(ValidationFailed) as refused:
        services.visit_record_once(actor=world.admin, key="k-1", body={**body, "area": "02"},
                                   answers=all_pass("01"), **kwargs)  # fmt: skip
    assert refused.value.field == "Idempotency-Key"


def test_a_visit_in_the_future_is_refused(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.visit_record(actor=world.admin, premises_kind="house",
                              premises_id=world.house.pk, area="01", answers=all_pass("01"),
                              visited_at=NOW + dt.timedelta(hours=2), now=NOW)  # fmt: skip
    assert refused.value.field == "visited_at"
