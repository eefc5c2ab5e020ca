from django.urls import path

from civicgrid.people import views

app_name = "people"
urlpatterns = [
    path("roster/", views.roster, name="roster"),
    path("access-log/", views.access_log, name="access-log"),
]
