"""The division engine runs in the worker: progress page, result page, once, failures named."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_tasks_db.models import DBTaskResult

from civicgrid.geo import division_jobs
from civicgrid.geo.models import DivisionJob, DivisionUnit, DivisionVersion, Grid
from civicgrid.geo.tests.test_divisions import lattice_township  # noqa: F401  (fixture)
from civicgrid.people.models import User
from civicgrid.worker import jobs

pytestmark = pytest.mark.django_db
FORM = {"villages": ["001"], "min_households": 300, "max_households": 500, "seed": 3}


@pytest.fixture
def root():
    return User.objects.create_superuser("root", password="a-long-test-password")


def logged_in(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _run_queued() -> list[str]:
    """What ``civicgrid worker --batch`` does, in this process."""
    results = []
    for row in DBTaskResult.objects.ready():
        results.append(row.task.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"]))
        row.delete()
    return results


def test_the_page_queues_the_division_and_the_worker_makes_the_draft_once(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    client = logged_in(root)
    response = client.post("/divisions/", FORM)
    job = DivisionJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/divisions/runs/{job.pk}/"
    assert not DivisionVersion.objects.filter(status="draft").exists()  # nothing in the request
    page = client.get(response["Location"]).content.decode()
    assert "Waiting for a worker." in page and "<progress" in page
    status = client.get(response["Location"], headers={"accept": "application/json"}).json()
    assert status["phase"] == "queued" and not status["finished"]

    assert _run_queued() == ["done"]
    job.refresh_from_db()
    draft = DivisionVersion.objects.get(status="draft")
    assert (job.state, job.division, job.problem_count, job.attempt) == ("done", draft, 0, 1)
    assert draft.parameters == {"seed": 3, "min": 300, "max": 500}
    page = client.get(response["Location"]).content.decode()
    assert f"Draft v{draft.number} is ready for review" in page
    assert f'href="/divisions/{draft.pk}/"' in page and "<td>东村 (001)</td>" in page
    assert "No gaps, overlaps, crossings or split grids." in page and "<progress" not in page
    status = client.get(response["Location"], headers={"accept": "application/json"}).json()
    assert (status["state"], status["percent"], status["finished"]) == ("done", 100, True)

    # A second delivery of the same task (a retry after a lost worker) changes nothing.
    assert division_jobs.division_job_run(job_id=job.pk) == "nothing to do"
    assert DivisionVersion.objects.filter(status="draft").count() == 1


def test_the_progress_covers_dividing_writing_and_checking(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
    monkeypatch,
):
    seen: list[tuple[str, int, int]] = []
    real = division_jobs.PROGRESS.set

    def spy(job_id: int, phase: str, done: int, total: int) -> None:
        seen.append((phase, done, total))
        real(job_id, phase, done, total)

    monkeypatch.setattr(division_jobs.PROGRESS, "set", spy)
    monkeypatch.setattr("civicgrid.geo.services.GRID_BATCH", 2)
    logged_in(root).post("/divisions/", FORM)
    job = DivisionJob.objects.get()
    assert division_jobs.division_job_run(job_id=job.pk) == "done"
    grids = Grid.objects.filter(division__status="draft").count()
    assert grids >= 3
    assert seen[:2] == [("dividing", 0, 1), ("dividing", 1, 1)]
    writing = [s for s in seen if s[0] == "writing"]
    assert writing[-1] == ("writing", grids, grids) and len(writing) == (grids + 1) // 2
    assert seen[-2:] == [("checking", 0, 1), ("checking", 1, 1)]
    assert jobs.percent(division_jobs.SHARES, "dividing", 1, 2) == 40
    assert jobs.percent(division_jobs.SHARES, "writing", 1, 1) == 95
    assert jobs.percent(division_jobs.SHARES, "checking", 1, 1) == 100


def test_the_status_reads_the_progress_while_the_worker_runs(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    client = logged_in(root)
    client.post("/divisions/", FORM)
    job = DivisionJob.objects.get()
    DivisionJob.objects.filter(pk=job.pk).update(state="running", attempt=1)
    division_jobs.PROGRESS.set(job.pk, "writing", 40, 120)
    status = client.get(f"/divisions/runs/{job.pk}/", headers={"accept": "application/json"})
    assert status.json() == {
        "state": "running",
        "phase": "writing",
        "done": 40,
        "total": 120,
        "percent": 85,
        "message": "Writing grids: 40 of 120.",
        "finished": False,
    }
    zh = client.get(f"/divisions/runs/{job.pk}/", headers={"accept-language": "zh-hans"})
    assert "正在写入网格：第 40 个，共 120 个。" in zh.content.decode()


def test_a_stale_run_rolls_its_draft_back(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
    monkeypatch,
):
    logged_in(root).post("/divisions/", FORM)
    job = DivisionJob.objects.get()
    real_claim = jobs.claim

    def claim_then_lose(model, job_id: int, *, running: str):
        claimed = real_claim(model, job_id, running=running)
        # Another worker took the job over meanwhile (this one was thought dead).
        DivisionJob.objects.filter(pk=job_id).update(attempt=claimed.attempt + 1)
        return claimed

    monkeypatch.setattr(jobs, "claim", claim_then_lose)
    assert division_jobs.division_job_run(job_id=job.pk) == "superseded"
    assert not DivisionVersion.objects.filter(status="draft").exists()
    assert DivisionJob.objects.get().state == "running"  # the newer attempt's to finish


def test_an_engine_failure_is_shown_with_a_clear_message_and_leaves_no_draft(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
    monkeypatch,
):
    def broken(*args, **kwargs):
        raise ValueError("no region reaches the floor")

    monkeypatch.setattr("civicgrid.geo.services.divide_village", broken)
    client = logged_in(root)
    response = client.post("/divisions/", FORM)
    assert _run_queued() == ["failed"]
    job = DivisionJob.objects.get()
    assert job.state == "failed" and job.division is None
    assert not DivisionVersion.objects.filter(status="draft").exists()
    page = client.get(response["Location"]).content.decode()
    assert "The division engine stopped with an error and made no draft" in page
    assert "ValueError: no region reaches the floor" in page and 'role="alert"' in page
    status = client.get(response["Location"], headers={"accept": "application/json"}).json()
    assert (status["state"], status["finished"], status["message"]) == (
        "failed",
        True,
        "The division failed.",
    )
    assert division_jobs.division_job_run(job_id=job.pk) == "nothing to do"


def test_a_refusal_by_the_engine_is_shown_in_its_own_words(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    client = logged_in(root)
    response = client.post("/divisions/", FORM)
    DivisionUnit.objects.all().delete()  # the units went away before the worker ran
    assert _run_queued() == ["refused"]
    page = client.get(response["Location"]).content.decode()
    assert "Village 001 has no division units to divide." in page


def test_what_the_engine_would_refuse_is_refused_on_the_page_at_once(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    client = logged_in(root)
    for form, message in [
        ({**FORM, "min_households": 600}, "The minimum must be above 0"),
        ({**FORM, "villages": ["009"]}, "Unknown village 009."),
        ({**FORM, "seed": "x"}, "Seed must be a whole number."),
    ]:
        page = client.post("/divisions/", form, follow=True).content.decode()
        assert message in page
    assert not DivisionJob.objects.exists() and not DBTaskResult.objects.exists()


def test_only_the_one_who_asked_follows_the_run(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    logged_in(root).post("/divisions/", FORM)
    job = DivisionJob.objects.get()
    planner = User.objects.create_user("planner", password="a-long-test-password")
    planner.user_permissions.add(Permission.objects.get(codename="change_divisionversion"))
    assert logged_in(planner).get("/divisions/").status_code == 200
    assert logged_in(planner).get(f"/divisions/runs/{job.pk}/").status_code == 404


def test_the_api_queues_the_division_and_answers_with_the_run(
    lattice_township,  # noqa: F811
    root,
    database_tasks,
):
    client = logged_in(root)
    response = client.post("/api/v1/geo/divisions", FORM, content_type="application/json")
    assert response.status_code == 202, response.content
    run = response.json()
    job = DivisionJob.objects.get()
    assert run["id"] == job.pk and run["state"] == "queued" and run["division"] is None
    assert run["status_url"] == f"/api/v1/geo/division-jobs/{job.pk}"
    assert run["page_url"] == f"/divisions/runs/{job.pk}/"
    assert not DivisionVersion.objects.filter(status="draft").exists()  # nothing in the request
    assert client.get(run["status_url"]).json()["message"] == "Waiting for a worker."

    assert _run_queued() == ["done"]
    done = client.get(run["status_url"]).json()
    draft = DivisionVersion.objects.get(status="draft")
    assert (done["state"], done["finished"], done["percent"]) == ("done", True, 100)
    assert (done["division"], done["problem_count"], done["error"]) == (draft.pk, 0, "")


def test_a_retried_api_request_finds_its_run(lattice_township, root, database_tasks):  # noqa: F811
    client = logged_in(root)

    def post(body, key):
        return client.post("/api/v1/geo/divisions", body, content_type="application/json",
                           headers={"Idempotency-Key": key})  # fmt: skip

    first, again = post(FORM, "run-1"), post(FORM, "run-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert DivisionJob.objects.count() == 1
    assert _run_queued() == ["done"]
    assert post(FORM, "run-1").json()["division"] is not None  # the run, now done
    other = post({**FORM, "seed": 4}, "run-1")
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    assert post({**FORM, "seed": 4}, "x" * 101).json()["field"] == "Idempotency-Key"
    assert post(FORM, "run-2").json()["id"] != first.json()["id"]
    assert DivisionJob.objects.count() == 2


def test_a_run_is_followed_only_by_the_one_who_asked(lattice_township, root, database_tasks):  # noqa: F811
    run = logged_in(root).post("/api/v1/geo/divisions", FORM, content_type="application/json")
    other = User.objects.create_user("other", password="a-long-test-password")
    other.user_permissions.add(Permission.objects.get(codename="change_divisionversion"))
    assert logged_in(other).get(run.json()["status_url"]).status_code == 404
    assert logged_in(root).get("/api/v1/geo/division-jobs/999999").json()["field"] == "job_id"


def test_the_divisions_page_lists_runs_going_and_finished(lattice_township, root, database_tasks):  # noqa: F811
    client = logged_in(root)
    client.post("/divisions/", FORM)
    finished = DivisionJob.objects.get()
    assert _run_queued() == ["done"]
    client.post("/divisions/", {**FORM, "seed": 4})
    waiting = DivisionJob.objects.exclude(pk=finished.pk).get()
    page = client.get("/divisions/").content.decode()
    runs = page.split('id="division-runs"')[1].split("</section>")[0]
    # The run still waiting first, then the finished one with its draft.
    assert runs.index(f'href="/divisions/runs/{waiting.pk}/"') < runs.index(
        f'href="/divisions/runs/{finished.pk}/"'
    )
    finished.refresh_from_db()
    assert f'href="/divisions/{finished.division_id}/"' in runs
    assert "waiting for a worker · 0 %" in runs
    # Someone else with the right sees only their own runs (none).
    other = User.objects.create_user("other", password="a-long-test-password")
    other.user_permissions.add(Permission.objects.get(codename="change_divisionversion"))
    assert 'id="division-runs"' not in logged_in(other).get("/divisions/").content.decode()
