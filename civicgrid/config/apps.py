"""The admin and the third-party apps under names an administrator reads in either language.

Django's documented way to rename an app someone else wrote is an ``AppConfig`` subclass
listed in ``INSTALLED_APPS`` in place of the app's own; the app's name, label and tables
stay as they are.
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.contrib.admin import sites
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class CivicGridAdminSite(sites.AdminSite):
    site_header = _("CivicGrid administration")
    site_title = _("CivicGrid administration")
    index_title = _("Data and settings")


class CivicGridAdminConfig(AdminConfig):
    default_site = "civicgrid.config.apps.CivicGridAdminSite"


class LoginProtectionConfig(AxesAppConfig):
    verbose_name = _("Login protection")

    def ready(self) -> None:
        super().ready()
        from axes.admin import AccessAttemptAdmin

        # axes heads two computed columns with their method names, outside any catalogue.
        AccessAttemptAdmin.status.short_description = _("Status")
        AccessAttemptAdmin.expiration.short_description = _("Expires At")


class TaskQueueConfig(TasksAppConfig):
    verbose_name = _("Task queue")  # type: ignore[assignment]  # a lazy str is a str here
