from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _


def reset_task_backends(*, setting: str, **kwargs: Any) -> None:
    """Let ``override_settings(TASKS=…)`` take effect: Django caches the backends."""
    if setting != "TASKS":
        return
    from asgiref.local import Local
    from django.tasks import task_backends

    task_backends.__dict__.pop("settings", None)
    task_backends._settings = None  # type: ignore[attr-defined]
    task_backends._connections = Local(task_backends.thread_critical)  # type: ignore[attr-defined]


class WorkerConfig(AppConfig):
    name = "civicgrid.worker"
    label = "worker"
    verbose_name = _("Background work")

    def ready(self) -> None:
        setting_changed.connect(reset_task_backends, dispatch_uid="civicgrid_reset_tasks")
