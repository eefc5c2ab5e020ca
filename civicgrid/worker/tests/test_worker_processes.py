"""Real ``civicgrid worker`` processes against the test database."""

import datetime as dt
import subprocess
from collections import Counter

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from civicgrid.testing import civicgrid_process, database_url, finish
from civicgrid.worker.models import WorkerBeat
from civicgrid.worker.tests.jobs import crash_once, record_run

pytestmark = pytest.mark.django_db(transaction=True)


def _worker(*args: str) -> subprocess.Popen[str]:
    return civicgrid_process(
        "worker", "--no-schedule", "--interval", "0.05", *args, CIVICGRID_TASKS_BACKEND="database"
    )


def test_each_task_runs_exactly_once_under_two_workers(database_tasks, tmp_path):
    log = tmp_path / "runs.log"
    ids = [record_run.enqueue(str(log), f"task-{n}").id for n in range(40)]
    workers = [_worker("--batch", "--worker-id", name) for name in ("one", "two")]
    for process in workers:
        code, out = finish(process)
        assert code == 0, out
    runs = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert runs == Counter({f"task-{n}": 1 for n in range(40)})
    results = DBTaskResult.objects.filter(pk__in=ids)
    assert set(results.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    assert all(len(r.worker_ids) == 1 for r in results)
    # Both workers took part (each claims under a lock; neither took a task twice).
    claimed_by = {r.worker_ids[0] for r in results}
    pids = {line.split()[1] for line in log.read_text().splitlines()}
    assert claimed_by <= {"one", "two"} and len(pids) == len(claimed_by)


def test_a_task_whose_worker_crashed_is_run_again_by_another_worker(database_tasks, tmp_path):
    marker, log = tmp_path / "crashed", tmp_path / "runs.log"
    result = crash_once.enqueue(str(marker), str(log))
    code, out = finish(_worker("--batch", "--worker-id", "doomed"))
    assert code == -9 and marker.exists() and not log.exists(), out
    held = DBTaskResult.objects.get(pk=result.id)
    assert held.status == TaskResultStatus.RUNNING and held.worker_ids == ["doomed"]
    # The dead worker's beat stops; once it is older than the limit, its task is taken back.
    WorkerBeat.objects.filter(worker_id="doomed").update(
        seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    code, out = finish(_worker("--batch", "--worker-id", "rescuer"))
    assert code == 0, out
    done = DBTaskResult.objects.get(pk=result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.worker_ids == ["doomed", "rescuer"]
    assert log.read_text().count("done") == 1
    assert not WorkerBeat.objects.filter(worker_id="rescuer").exists()  # it signed off


def test_a_worker_beside_a_server_runs_tasks_and_stops_with_it(
    database_tasks, tmp_path, monkeypatch
):
    import time

    from civicgrid.worker.process import worker_beside

    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("CIVICGRID_TASKS_BACKEND", "database")
    log = tmp_path / "runs.log"
    result = record_run.enqueue(str(log), "beside")
    with worker_beside() as child:
        for _ in range(600):  # waits for the worker; asserts nothing about how long it took
            if DBTaskResult.objects.filter(pk=result.id, status="SUCCESSFUL").exists():
                break
            time.sleep(0.2)
        assert child.poll() is None
    assert child.returncode is not None
    assert log.read_text().split()[0] == "beside"
