from django.urls import path

from civicgrid.care import views

urlpatterns = [
    path("field/", views.field_households, name="care_field"),
    path("field/visit/", views.field_visit, name="care_field_visit"),
    path("field/sw.js", views.service_worker, name="care_field_sw"),
    path("village/", views.village_tasks, name="care_village"),
    path("lists/", views.health_lists, name="care_lists"),
    path("notices/", views.notice_progress, name="care_notices"),
    path("notices/deliver/", views.notice_deliver, name="care_notice_deliver"),
    path("campaigns/", views.campaigns, name="care_campaigns"),
    path("campaigns/new/", views.campaign_new, name="care_campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="care_campaign"),
    path("campaigns/<int:pk>/photos/<int:photo>/", views.distribution_photo, name="care_photo"),
    path("campaigns/<int:pk>/distribution/", views.distribution_new, name="care_distribution_new"),
    path("campaigns/<int:pk>/event/", views.event_new, name="care_event_new"),
]
