from django.urls import path

from civicgrid.inspections import views

app_name = "inspections"
urlpatterns = [
    path("field/", views.field_home, name="field"),
    path("field/<str:kind>/<int:pk>/<str:area>/", views.visit_form, name="visit_form"),
    path("visits/<str:number>/", views.visit_detail, name="visit"),
    path("report/", views.center_report, name="report"),
]
