from django.urls import path

from hab.patients import access_views, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/photo/", views.patient_photo, name="photo"),
    path("<int:patient_id>/consents/", views.consent_add, name="consent"),
    path("<int:patient_id>/relatives/new/", views.relative_edit, name="relative-add"),
    path(
        "<int:patient_id>/relatives/<int:relative_id>/", views.relative_edit, name="relative-edit"
    ),
    path(
        "<int:patient_id>/relatives/<int:relative_id>/remove/",
        views.relative_remove,
        name="relative-remove",
    ),
    path("<int:patient_id>/access-log/", views.access_log, name="access-log"),
    path(
        "<int:patient_id>/access-report/",
        access_views.access_report_page,
        name="access-report",
    ),
    path(
        "<int:patient_id>/access-report/<str:kind>/",
        access_views.access_report_download,
        name="access-report-download",
    ),
    path("<int:patient_id>/reason/", views.access_reason, name="reason"),
]
