from django.urls import path

from civicgrid.core.replica import reads_from_replica
from civicgrid.evaluation import views

# The pages read from the read replica when one is configured (CIVICGRID_REPLICA_URL).
urlpatterns = [
    path("evaluation/", reads_from_replica(views.evaluation), name="evaluation"),
    path("evaluation/cases/", reads_from_replica(views.counted), name="evaluation_cases"),
    path(
        "evaluation/cases/export.xlsx",
        reads_from_replica(views.counted_xlsx),
        name="evaluation_cases_export",
    ),
    path(
        "evaluation/<str:kind>/export.xlsx",
        reads_from_replica(views.records_xlsx),
        name="evaluation_records_export",
    ),
    path("evaluation/export.xlsx", reads_from_replica(views.export_xlsx), name="evaluation_export"),
    path("evaluation/report.pdf", reads_from_replica(views.report_pdf), name="evaluation_report"),
    # Duty days, inspections, households visited, registry records (``lists.KINDS``).
    path("evaluation/<str:kind>/", reads_from_replica(views.records), name="evaluation_records"),
]
