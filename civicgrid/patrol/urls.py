from django.urls import path

from civicgrid.patrol import views

urlpatterns = [
    path("osmand/", views.osmand, name="osmand"),
    path("patrol/live/", views.live_map, name="patrol_live"),
    path("patrol/tracks/<str:username>/", views.track_replay, name="patrol_replay"),
    path("patrol/field/", views.field_patrol, name="patrol_field"),
    path("patrol/month/", views.duty_month, name="patrol_month"),
]
