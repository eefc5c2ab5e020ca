from django.urls import include, path

from civicgrid.public import views

portal = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("track/", views.track, name="track"),
    path("track/<str:number>/", views.tracked, name="tracked"),
    path("track/<str:number>/rate/", views.tracked_rate, name="tracked_rate"),
    path("track/<str:number>/reopen/", views.tracked_reopen, name="tracked_reopen"),
    path("c/<str:number>/<str:token>/", views.case, name="case"),
    path("c/<str:number>/<str:token>/rate/", views.rate, name="rate"),
    path("c/<str:number>/<str:token>/reopen/", views.reopen, name="reopen"),
    path("cases/", views.case_list, name="cases"),
    path("map/", views.case_map, name="map"),
    path("cases.geojson", views.cases_geojson, name="cases_geojson"),
    path("area.geojson", views.area_geojson, name="area_geojson"),
    path("photos/<int:photo_id>/", views.photo, name="photo"),
]

urlpatterns = [
    path("public/", include((portal, "public"))),
    path("open311/v2/", include("civicgrid.public.open311.urls")),
]
