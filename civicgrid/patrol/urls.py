from django.urls import path

from civicgrid.patrol import planning, views

urlpatterns = [
    path("osmand/", views.osmand, name="osmand"),
    path("patrol/live/", views.live_map, name="patrol_live"),
    path("patrol/tracks/<str:username>/", views.track_replay, name="patrol_replay"),
    path("patrol/field/", views.field_patrol, name="patrol_field"),
    path("patrol/month/", views.duty_month, name="patrol_month"),
    path("patrol/exemptions/", planning.exemption_list, name="patrol_exemptions"),
    path("patrol/exemptions/new/", planning.exemption_new, name="patrol_exemption_new"),
    path("patrol/exemptions/<int:pk>/", planning.exemption_edit, name="patrol_exemption_edit"),
    path("patrol/schedules/", planning.schedule_list, name="patrol_schedules"),
    path("patrol/schedules/new/", planning.schedule_new, name="patrol_schedule_new"),
    path("patrol/schedules/<int:pk>/", planning.schedule_edit, name="patrol_schedule_edit"),
]
