"""The resident portal without a browser: report, track, rate, reopen, abuse, escaping."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from civicgrid.cases.models import Attachment, Case
from civicgrid.core.errors import ValidationFailed
from civicgrid.public import services
from civicgrid.public.models import HiddenCase, ReopenRequest
from civicgrid.public.tests.conftest import HERE, Public, jpeg


def report_form(client: Client, **extra: Any) -> dict[str, Any]:
    page = client.get("/public/report/")
    submission = re.search(rb'name="submission" value="([0-9a-f]+)"', page.content)
    assert submission is not None
    lon, lat = HERE
    return {
        "service": "0702",
        "description": "小区门口垃圾堆积",
        "lat": str(lat),
        "lon": str(lon),
        "crs": "wgs84",
        "address": "",
        "phone": "",
        "website": "",
        "submission": submission.group(1).decode(),
        **extra,
    }


def tracking_link(response: Any) -> str:
    found = re.search(
        r'id="tracking-link" href="[^"]*?(/public/c/[^"]+)"', response.content.decode()
    )
    assert found is not None
    return found.group(1)


def test_the_report_page_lists_only_public_categories(public: Public, client: Client) -> None:
    page = client.get("/public/report/").content.decode()
    assert 'value="0702"' in page and 'value="1301"' not in page and 'value="0501"' not in page


def test_an_anonymous_report_with_a_photo_gives_a_number_and_a_private_link(
    public: Public, client: Client
) -> None:
    data = report_form(client)
    data["photos"] = SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")
    response = client.post("/public/report/", data)
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.reporter_kind == "resident" and case.reporter_phone == ""
    assert case.public_report.source == "portal" and case.events.get().note == "portal"
    photo = case.attachments.get()
    link = tracking_link(response)
    page = client.get(link)
    assert page.status_code == 200 and case.number in page.content.decode()
    # The public copy of the photo carries no EXIF.
    served = client.get(f"/public/photos/{photo.pk}/")
    assert served.status_code == 200
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    served.close()
    assert not image.getexif()


def test_a_double_submission_creates_one_case(public: Public, client: Client) -> None:
    data = report_form(client)
    first = client.post("/public/report/", data)
    again = client.post("/public/report/", data)
    assert first.status_code == 201 and again.status_code == 200
    assert Case.objects.count() == 1


def test_gcj02_positions_are_converted(public: Public, client: Client) -> None:
    from civicgrid.geo.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(HERE[0], HERE[1])
    data = report_form(client, lon=str(float(glon)), lat=str(float(glat)), crs="gcj02")
    assert client.post("/public/report/", data).status_code == 201
    case = Case.objects.get()
    assert abs(case.lon - HERE[0]) < 1e-5 and abs(case.lat - HERE[1]) < 1e-5


def test_the_honeypot_refuses_bots(public: Public, client: Client) -> None:
    response = client.post("/public/report/", report_form(client, website="http://spam"))
    assert response.status_code == 400 and Case.objects.count() == 0


def test_rate_limit_per_address_answers_429(public: Public, client: Client, settings) -> None:
    settings.CIVICGRID_PUBLIC_REPORTS_PER_ADDRESS_HOUR = 2
    for _n in range(2):
        assert client.post("/public/report/", report_form(client)).status_code == 201
    refused = client.post("/public/report/", report_form(client))
    assert refused.status_code == 429
    assert "Too many reports from your network" in refused.content.decode()
    other = Client(REMOTE_ADDR="198.51.100.7", headers={"accept-language": "en"})
    assert other.post("/public/report/", report_form(other)).status_code == 201


def test_rate_limit_per_phone_answers_429(public: Public, client: Client, settings) -> None:
    settings.CIVICGRID_PUBLIC_REPORTS_PER_PHONE_DAY = 1
    assert (
        client.post("/public/report/", report_form(client, phone="13900002222")).status_code == 201
    )
    other = Client(REMOTE_ADDR="198.51.100.8", headers={"accept-language": "en"})
    refused = other.post("/public/report/", report_form(other, phone="139 0000 2222"))
    assert refused.status_code == 429 and "phone number" in refused.content.decode()


def test_photos_over_the_size_limit_are_refused(public: Public, client: Client, settings) -> None:
    settings.CIVICGRID_PUBLIC_PHOTO_MAX_BYTES = 1000
    data = report_form(client)
    data["photos"] = SimpleUploadedFile("big.jpg", jpeg((400, 400)), content_type="image/jpeg")
    response = client.post("/public/report/", data)
    assert response.status_code == 413 and Case.objects.count() == 0


def stored_files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    return out.getvalue()


def test_a_refused_report_leaves_no_photo_file(
    public: Public, client: Client, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.CIVICGRID_PUBLIC_PHOTO_MAX_BYTES = 20_000
    refusals = [
        # A readable image but not a JPEG, PNG or WebP: refused by the attachment store
        # after the first photo's files were written, so the whole report rolls back.
        (gif(), 422),
        (jpeg((1600, 1600)), 413),  # too large: refused before anything is written
    ]
    for second, status in refusals:
        data = report_form(client)
        data["photos"] = [
            SimpleUploadedFile("one.jpg", jpeg(), content_type="image/jpeg"),
            SimpleUploadedFile("two", second, content_type="image/jpeg"),
        ]
        response = client.post("/public/report/", data)
        assert response.status_code == status, response.content
        assert Case.objects.count() == 0 and Attachment.objects.count() == 0
        assert stored_files(tmp_path) == set()
    # The same refusal through the service, as an Open311 client or a script would meet it.
    with pytest.raises(ValidationFailed):
        public.resident_report(photos=[jpeg(), gif()])
    assert stored_files(tmp_path) == set()


def test_a_report_with_photos_leaves_exactly_its_files(
    public: Public, client: Client, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    data = report_form(client)
    data["photos"] = [
        SimpleUploadedFile("one.jpg", jpeg(), content_type="image/jpeg"),
        SimpleUploadedFile("two.jpg", jpeg((80, 60)), content_type="image/jpeg"),
    ]
    response = client.post("/public/report/", data)
    assert response.status_code == 201, response.content
    attachments = Case.objects.get().attachments.all()
    named = {stored.name for a in attachments for stored in (a.original, a.public, a.thumbnail)}
    assert len(attachments) == 2 and len(named) == 6
    assert stored_files(tmp_path) == named


def test_public_text_is_escaped(public: Public, client: Client) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = client.post("/public/report/", report_form(client, description=evil, address=evil))
    page = client.get(tracking_link(response)).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    listing = client.get("/public/cases/").content.decode()
    assert "<img src=x" not in listing and "&lt;img src=x" in listing


def test_track_by_number_and_phone_shows_no_other_data(public: Public, client: Client) -> None:
    mine = public.resident_report(phone="13900003333").case
    other = public.resident_report(phone="13900004444", description="别人的案件").case
    found = client.post("/public/track/", {"number": mine.number, "phone": "139-0000-3333"},
                        follow=True)  # fmt: skip
    assert found.status_code == 200 and mine.number in found.content.decode()
    assert "别人的案件" not in found.content.decode()
    wrong = client.post("/public/track/", {"number": other.number, "phone": "13900003333"})
    assert wrong.status_code == 404
    assert client.get(f"/public/c/{mine.number}/not-the-token/").status_code == 404


def test_track_shows_steps_deadline_department_and_after_photos(
    public: Public, client: Client
) -> None:
    from civicgrid.cases.photos import attachment_add

    reported = public.resident_report()
    case = reported.case
    public.loop.act(case, "file")
    public.loop.act(case, "dispatch")
    page = client.get(f"/public/c/{case.number}/{reported.follow_token}/").content.decode()
    assert "城管" in page and 'id="case-deadline"' in page
    attachment_add(case=case, kind="after", data=jpeg(), actor=public.loop.officer)
    public.loop.act(case, "dispose", result="已清理完毕")
    page = client.get(f"/public/c/{case.number}/{reported.follow_token}/").content.decode()
    assert "已清理完毕" in page and "After disposal" in page
    assert page.count("<li>") >= 4  # report, file, dispatch, dispose
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() - dt.timedelta(hours=1))
    page = client.get(f"/public/c/{case.number}/{reported.follow_token}/").content.decode()
    assert 'class="overdue"' in page


def test_rate_once_after_closure_and_ask_to_reopen(public: Public, client: Client) -> None:
    reported = public.resident_report()
    link = f"/public/c/{reported.case.number}/{reported.follow_token}/"
    assert "rate-form" not in client.get(link).content.decode()
    case = public.close(reported.case)
    assert "rate-form" in client.get(link).content.decode()
    client.post(link + "rate/", {"rating": "2", "comment": "还是很脏", "reopen": "on"})
    case.refresh_from_db()
    assert case.rating == 2 and case.rating_comment == "还是很脏"
    assert case.events.last().action == "rate"
    request = ReopenRequest.objects.get(case=case)
    assert request.status == "pending"
    again = client.post(link + "rate/", {"rating": "5"}, follow=True)
    assert "already been rated" in again.content.decode()
    case.refresh_from_db()
    assert case.rating == 2
    decided = services.reopen_decide(request=request, grant=True, actor=public.loop.dispatcher)
    assert decided.status == "granted" and decided.follow_up is None
    case.refresh_from_db()
    assert case.state == "dispatched" and case.rework_count == 1
    assert case.events.last().action == "reopen"
    page = client.get(link).content.decode()
    assert "reopened for rework" in page.split('id="reopen-status"')[1]
    assert "reopen for rework" in page.split('id="steps"')[1]  # a public step


def test_reopen_only_for_unsatisfied_ratings_within_seven_days(public: Public) -> None:
    happy = public.resident_report()
    case = public.close(happy.case)
    services.case_rate(case=case, token=happy.follow_token, rating=5, comment="")
    case.refresh_from_db()
    assert not services.can_ask_reopen(case)
    late = public.resident_report(description="另一件")
    late_case = public.close(late.case)
    services.case_rate(case=late_case, token=late.follow_token, rating=1, comment="")
    late_case.refresh_from_db()
    assert services.can_ask_reopen(late_case)
    assert not services.can_ask_reopen(late_case, now=timezone.now() + dt.timedelta(days=8))


def test_only_a_dispatcher_decides_on_reopening(public: Public) -> None:
    import pytest

    from civicgrid.core.errors import PermissionDenied

    reported = public.resident_report()
    case = public.close(reported.case)
    services.case_rate(case=case, token=reported.follow_token, rating=1, comment="",
                       reopen=True)  # fmt: skip
    request = ReopenRequest.objects.get(case=case)
    with pytest.raises(PermissionDenied):
        services.reopen_decide(request=request, grant=True, actor=public.loop.officer)
    with pytest.raises(ValidationFailed) as no_reason:
        services.reopen_decide(request=request, grant=False, actor=public.loop.dispatcher)
    assert no_reason.value.field == "note"
    refused = services.reopen_decide(request=request, grant=False, actor=public.loop.dispatcher,
                                     note="已复核，垃圾已清运")  # fmt: skip
    assert refused.status == "refused" and refused.follow_up is None
    assert refused.decision_note == "已复核，垃圾已清运"
    case.refresh_from_db()
    assert case.state == "closed" and case.events.last().action == "rate"


def test_public_list_and_map_strip_personal_data_and_hide_cases(
    public: Public, client: Client
) -> None:
    shown = public.resident_report(phone="13900005555", first_name="王五",
                                   description="井盖丢失 请联系 13900005555")  # fmt: skip
    hidden = public.resident_report(description="隐藏的案件")
    HiddenCase.objects.create(case=hidden.case, reason="abuse")
    dispute = public.loop.report("1301", description="纠纷内容")
    home = public.resident_report("1003", description="噪声", address="3 巷 5 号",
                                  at=(113.00537, 23.01123))  # fmt: skip
    listing = client.get("/public/cases/").content.decode()
    assert shown.case.number in listing and home.case.number in listing
    for text in ("13900005555", "王五", "隐藏的案件", "纠纷内容", "3 巷 5 号", dispute.number):
        assert text not in listing
    features = client.get("/public/cases.geojson").json()["features"]
    numbers = {f["properties"]["number"] for f in features}
    assert numbers == {shown.case.number, home.case.number}
    point = next(f for f in features if f["properties"]["number"] == home.case.number)
    assert point["geometry"]["coordinates"] == [113.005, 23.011]
    assert point["properties"]["coarsened"] is True
    # Photos of hidden cases are not served either.
    from civicgrid.cases.photos import attachment_add

    photo = attachment_add(case=hidden.case, kind="before", data=jpeg(), actor=None)
    assert client.get(f"/public/photos/{photo.pk}/").status_code == 404
    own = client.get(f"/public/photos/{photo.pk}/",
                     {"n": hidden.case.number, "t": hidden.follow_token})  # fmt: skip
    assert own.status_code == 200
    own.close()


def test_pages_speak_chinese(public: Public) -> None:
    zh = Client(headers={"accept-language": "zh-hans"})
    page = zh.get("/public/report/").content.decode()
    assert 'lang="zh-hans"' in page


def test_open311_key_command_prints_a_key_stored_hashed(db, capsys) -> None:
    from django.core.management import call_command

    from civicgrid.public.models import Open311Key

    call_command("open311_key", "create", "city app")
    raw = capsys.readouterr().out.strip()
    key = Open311Key.objects.get(name="city app")
    assert raw.startswith(key.prefix) and raw not in (key.digest, key.prefix)
    assert services.open311_key_authenticate(raw) == key
    call_command("open311_key", "revoke", "city app")
    assert services.open311_key_authenticate(raw) is None


def test_rate_and_ask_to_reopen_from_the_track_page_by_number_and_phone(
    public: Public, client: Client
) -> None:
    reported = public.resident_report(phone="13900007777")
    case = public.close(reported.case)
    page = client.post("/public/track/", {"number": case.number, "phone": "139 0000 7777"},
                       follow=True)  # fmt: skip
    assert page.status_code == 200 and 'id="rate-form"' in page.content.decode()
    tracked = f"/public/track/{case.number}/"
    page = client.post(tracked + "rate/", {"rating": "1", "comment": "根本没清理", "reopen": "on"},
                       follow=True)  # fmt: skip
    assert page.status_code == 200
    case.refresh_from_db()
    assert case.rating == 1 and case.events.last().action == "rate"
    request = ReopenRequest.objects.get(case=case)
    assert (request.status, request.reason) == ("pending", "根本没清理")
    assert "waiting for the dispatcher" in page.content.decode().split('id="reopen-status"')[1]
    services.reopen_decide(request=request, grant=False, actor=public.loop.dispatcher,
                           note="现场复查已清理干净")  # fmt: skip
    page = client.get(tracked).content.decode()
    assert "现场复查已清理干净" in page.split('id="reopen-status"')[1]


def test_the_track_page_asks_to_reopen_after_rating_separately(
    public: Public, client: Client
) -> None:
    reported = public.resident_report(phone="13900008888")
    case = public.close(reported.case)
    client.post("/public/track/", {"number": case.number, "phone": "13900008888"})
    tracked = f"/public/track/{case.number}/"
    client.post(tracked + "rate/", {"rating": "2", "comment": ""})
    assert not ReopenRequest.objects.exists()
    assert 'id="reopen-form"' in client.get(tracked).content.decode()
    client.post(tracked + "reopen/", {"reason": "路灯还是不亮"})
    assert ReopenRequest.objects.get(case=case).reason == "路灯还是不亮"


def test_the_track_page_acts_only_for_the_session_that_gave_the_phone(
    public: Public, client: Client
) -> None:
    reported = public.resident_report(phone="13900009999")
    case = public.close(reported.case)
    tracked = f"/public/track/{case.number}/"
    assert client.get(tracked)["Location"] == "/public/track/"
    refused = client.post(tracked + "rate/", {"rating": "1"})
    assert refused.status_code == 302 and refused["Location"] == "/public/track/"
    case.refresh_from_db()
    assert case.rating is None and case.events.last().action == "close"
    wrong = client.post("/public/track/", {"number": case.number, "phone": "13900000000"})
    assert wrong.status_code == 404
    assert client.get(tracked)["Location"] == "/public/track/"


def test_a_caller_registered_by_phone_tracks_and_rates_by_number_and_phone(
    public: Public, client: Client
) -> None:
    from civicgrid.cases import services as case_services

    case = case_services.case_report(
        actor=public.loop.dispatcher,
        category="0702",
        description="来电：垃圾没清",
        lon=HERE[0],
        lat=HERE[1],
        reporter_name="赵六",
        reporter_phone="13600001111",
    ).case
    case = public.close(case)
    page = client.post("/public/track/", {"number": case.number, "phone": "13600001111"},
                       follow=True)  # fmt: skip
    assert page.status_code == 200 and 'id="rate-form"' in page.content.decode()
    client.post(f"/public/track/{case.number}/rate/", {"rating": "5"})
    case.refresh_from_db()
    assert case.rating == 5
