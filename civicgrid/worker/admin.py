from django.contrib import admin

from civicgrid.worker.models import ScheduledRun, WorkerBeat


@admin.register(WorkerBeat)
class WorkerBeatAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "host", "pid", "started_at", "seen_at"]
    readonly_fields = ["worker_id", "host", "pid", "started_at", "seen_at"]


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "worker_id", "task_id", "enqueued_at"]
    list_filter = ["job"]
    readonly_fields = ["job", "slot", "worker_id", "task_id", "enqueued_at"]
