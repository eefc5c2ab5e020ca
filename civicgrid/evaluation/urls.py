from django.urls import path

from civicgrid.evaluation import views

urlpatterns = [
    path("evaluation/", views.evaluation, name="evaluation"),
    path("evaluation/cases/", views.counted, name="evaluation_cases"),
    path("evaluation/export.xlsx", views.export_xlsx, name="evaluation_export"),
    path("evaluation/report.pdf", views.report_pdf, name="evaluation_report"),
]
