from django.urls import path

from civicgrid.patrol import views

urlpatterns = [
    path("osmand/", views.osmand, name="osmand"),
]
