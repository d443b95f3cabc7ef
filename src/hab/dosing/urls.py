from django.urls import path

from hab.dosing import alert_views, contingency_views, views

app_name = "dosing"

urlpatterns = [
    path("", views.board_page, name="board"),
    path("patients/<int:patient_id>/", views.dose_panel, name="panel"),
    path("patients/<int:patient_id>/review/", views.dose_review, name="review"),
    path("patients/<int:patient_id>/alert/", alert_views.doctor_alert, name="alert"),
    path("patients/<int:patient_id>/hold/", alert_views.dose_hold, name="hold"),
    path("patients/<int:patient_id>/hold/lift/", alert_views.dose_hold_lift, name="hold-lift"),
    path("awaiting-review/", alert_views.awaiting_review, name="alerts"),
    path("records/<int:administration_id>/observation/", views.observation_end, name="observation"),
    path("records/<int:administration_id>/correct/", views.correction, name="correct"),
    path("close/", views.session_close, name="close"),
    path("contingency/", contingency_views.contingency_page, name="contingency"),
    path("back-entry/", contingency_views.back_entry, name="back-entry"),
]
