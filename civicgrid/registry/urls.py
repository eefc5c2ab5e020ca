from django.urls import path

from civicgrid.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.index, name="index"),
    path("licences/", views.licence_report, name="licences"),
    path("import/", views.import_page, name="import"),
    path("import/<int:pk>/", views.import_job_page, name="import-job"),
    path("persons/<int:pk>/move-out/", views.person_move_out, name="move-out"),
    path("components/<int:pk>/photo/", views.component_photo, name="component-photo"),
    path("<str:kind>/", views.record_list, name="list"),
    path("<str:kind>/new/", views.field_form, name="new"),
    path("<str:kind>/<int:pk>/", views.record_detail, name="detail"),
    path("<str:kind>/<int:pk>/edit/", views.field_form, name="edit"),
    path("<str:kind>/template.<str:fmt>", views.template_download, name="template"),
    path("<str:kind>/export.<str:fmt>", views.export_download, name="export"),
]
