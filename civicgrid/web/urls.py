from django.contrib.auth import views as auth_views
from django.urls import path

from civicgrid.web import accounts, assess, center, dept, field, inbox, views, village

urlpatterns = [
    path("", views.home, name="home"),
    path("map/", views.township_map, name="map"),
    path("divisions/", views.division_list, name="division_list"),
    path("divisions/<int:division_id>/", views.division_review, name="division_review"),
    path("divisions/runs/<int:job_id>/", views.division_job_page, name="division_job"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/landing/", accounts.landing, name="landing"),
    path("language/", accounts.language, name="language"),
    # Command and Dispatch Center
    path("center/", center.center, name="center"),
    path("center/counts.json", center.counts, name="center_counts"),
    path("center/cases.geojson", center.cases_geojson, name="center_cases_geojson"),
    path("center/grids/<str:code>.json", center.grid_summary, name="center_grid"),
    path("center/overdue/", center.overdue_board, name="center_overdue"),
    path("center/intake/", center.center_intake, name="center_intake"),
    path("center/cases/<str:ref>/reopen/decide/", center.center_reopen, name="center_reopen"),
    path("center/cases/<str:ref>/", center.center_case, name="center_case"),
    path("center/cases/<str:ref>/<str:action>/", center.center_act, name="center_act"),
    # Department inbox
    path("dept/", dept.dept, name="dept"),
    path("dept/cases/<str:ref>/", dept.dept_case, name="dept_case"),
    path("dept/cases/<str:ref>/<str:action>/", dept.dept_act, name="dept_act"),
    # Petition/stability assessors
    path("assess/", assess.assess, name="assess"),
    path("assess/cases/<str:ref>/", assess.assess_case, name="assess_case"),
    path("assess/cases/<str:ref>/<str:action>/", assess.assess_act, name="assess_act"),
    # Everyone's notices
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/read/", inbox.inbox_read, name="inbox_read"),
    # Field app
    path("field/", field.field, name="field"),
    path("field/report/", field.field_report, name="field_report"),
    path("field/offline/", field.offline, name="field_offline"),
    path("field/manifest.webmanifest", field.manifest, name="field_manifest"),
    path("field/sw.js", field.service_worker, name="field_sw"),
    path("field/cases/<str:ref>/", field.field_case, name="field_case"),
    path("field/cases/<str:ref>/<str:action>/", field.field_act, name="field_act"),
    # Village committee
    path("village/", village.village, name="village"),
    path("village/cases/<str:ref>/", village.village_case, name="village_case"),
    path("village/cases/<str:ref>/<str:action>/", village.village_act, name="village_act"),
]
