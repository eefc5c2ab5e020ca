from django.contrib.auth import views as auth_views
from django.urls import path

from civicgrid.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.township_map, name="map"),
    path("divisions/", views.division_list, name="division_list"),
    path("divisions/<int:division_id>/", views.division_review, name="division_review"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
