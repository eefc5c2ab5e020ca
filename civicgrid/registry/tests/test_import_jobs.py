"""Large imports run in the worker: progress page, result page, safe to run again."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult

from civicgrid.registry import imports
from civicgrid.registry.models import House, ImportJob, RecordChange
from civicgrid.worker import jobs

HOUSES = "code,address,lon,lat\n" + "".join(
    f"H{n:03d},road {n},113.00{n % 9 + 1},23.01\n" for n in range(12)
)


@pytest.fixture(autouse=True)
def small_background_threshold(settings, tmp_path):
    settings.CIVICGRID_IMPORT_BACKGROUND_BYTES = 100  # every test file here is "large"
    settings.MEDIA_ROOT = tmp_path


def logged_in(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _post(client: Client, body: str, **extra) -> object:
    upload = SimpleUploadedFile("houses.csv", body.encode())
    return client.post("/registry/import/", {"kind": "houses", "file": upload}, **extra)


def _run_queued() -> list[str]:
    """What ``civicgrid worker --batch`` does, in this process."""
    results = []
    for row in DBTaskResult.objects.ready():
        results.append(row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]))
        row.delete()
    return results


def test_a_large_file_is_imported_by_the_worker_with_a_progress_and_a_result_page(
    cast, database_tasks
):
    client = logged_in(cast.admin)
    response = _post(client, HOUSES)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["location"] == f"/registry/import/{job.pk}/"
    assert House.objects.count() == 0  # nothing done in the request
    page = client.get(response["location"]).content.decode()
    assert "Waiting for a worker." in page and "<progress" in page
    status = client.get(response["location"], headers={"accept": "application/json"}).json()
    assert status["state"] == "queued" and not status["finished"]
    assert _run_queued() == ["done"]
    page = client.get(response["location"]).content.decode()
    assert "12 records imported." in page
    assert House.objects.count() == 12
    job.refresh_from_db()
    assert (job.state, job.rows, job.created) == ("done", 12, 12)
    assert not job.upload  # the file with personal data is gone once read


def test_the_progress_covers_checking_and_writing(cast, database_tasks, monkeypatch):
    seen: list[tuple[str, int, int]] = []
    real = imports.PROGRESS.set

    def spy(job_id: int, phase: str, done: int, total: int) -> None:
        seen.append((phase, done, total))
        real(job_id, phase, done, total)

    monkeypatch.setattr(imports.PROGRESS, "set", spy)
    monkeypatch.setattr("civicgrid.registry.transfer.BATCH", 5)
    _post(logged_in(cast.admin), HOUSES)
    job = ImportJob.objects.get()
    assert imports.import_job_run(job_id=job.pk) == "done"
    assert ("checking", 12, 12) in seen
    assert [s for s in seen if s[0] == "writing"] == [
        ("writing", 5, 12),
        ("writing", 10, 12),
        ("writing", 12, 12),
    ]
    assert jobs.percent(imports.SHARES, "checking", 6, 12) == 40
    assert jobs.percent(imports.SHARES, "writing", 12, 12) == 100


def test_a_second_run_imports_nothing_twice(cast, database_tasks):
    _post(logged_in(cast.admin), HOUSES)
    job = ImportJob.objects.get()
    assert imports.import_job_run(job_id=job.pk) == "done"
    assert imports.import_job_run(job_id=job.pk) == "nothing to do"
    assert House.objects.count() == 12
    assert RecordChange.objects.filter(action="import").count() == 12


def test_a_run_that_died_after_writing_is_finished_not_repeated(cast, database_tasks):
    _post(logged_in(cast.admin), HOUSES)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state="written", rows=12)  # rows committed
    assert imports.import_job_run(job_id=job.pk) == "nothing to do"
    job.refresh_from_db()
    assert (job.state, job.created) == ("done", 12)
    assert House.objects.count() == 0  # (this test wrote none: nothing was written again)


def test_a_stale_run_rolls_its_rows_back(cast, database_tasks, monkeypatch):
    _post(logged_in(cast.admin), HOUSES)
    job = ImportJob.objects.get()
    real_claim = imports._claim

    def claim_then_lose(job_id: int):
        claimed = real_claim(job_id)
        # Another worker took the job over meanwhile (this one was thought dead).
        ImportJob.objects.filter(pk=job_id).update(attempt=claimed.attempt + 1)
        return claimed

    monkeypatch.setattr(imports, "_claim", claim_then_lose)
    with pytest.raises(RuntimeError, match="no longer current"):
        imports.import_job_run(job_id=job.pk)
    assert House.objects.count() == 0


def test_a_file_with_problems_shows_the_row_report(cast, database_tasks):
    client = logged_in(cast.admin)
    response = _post(client, HOUSES + "H999,road,x,23.01\n")
    assert _run_queued() == ["done"]
    page = client.get(response["location"]).content.decode()
    assert "1 problems in 13 rows" in page and "nothing imported" in page
    assert House.objects.count() == 0


def test_the_script_is_sent_to_the_job_page(cast, database_tasks):
    response = _post(logged_in(cast.admin), HOUSES, headers={"x-requested-with": "XMLHttpRequest"})
    job = ImportJob.objects.get()
    assert response.status_code == 202 and response.json() == {"job": f"/registry/import/{job.pk}/"}


def test_someone_else_cannot_see_the_job(cast, database_tasks, django_user_model):
    _post(logged_in(cast.admin), HOUSES)
    job = ImportJob.objects.get()
    other = django_user_model.objects.create_user(username="other", password="x-long-password")
    assert logged_in(other).get(f"/registry/import/{job.pk}/").status_code == 404


def test_with_tasks_run_at_once_the_page_goes_straight_to_the_result(cast):
    client = logged_in(cast.admin)
    response = _post(client, HOUSES)
    page = client.get(response["location"]).content.decode()
    assert "12 records imported." in page and House.objects.count() == 12
