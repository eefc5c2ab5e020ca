from django.urls import path

from civicgrid.care import views

urlpatterns = [
    path("field/", views.field_households, name="care_field"),
    path("field/visit/", views.field_visit, name="care_field_visit"),
    path("village/", views.village_tasks, name="care_village"),
    path("lists/", views.health_lists, name="care_lists"),
    path("notices/", views.notice_progress, name="care_notices"),
    path("campaigns/", views.campaigns, name="care_campaigns"),
]
