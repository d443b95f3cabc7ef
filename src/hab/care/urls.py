from django.urls import path

from hab.care import views

app_name = "care"

urlpatterns = [
    path("", views.clinic, name="clinic"),
    path("patients/<int:patient_id>/", views.plan, name="plan"),
    path("patients/<int:patient_id>/goals/new/", views.goal_add, name="goal-add"),
    path("patients/<int:patient_id>/goals/<int:goal_id>/", views.goal_change, name="goal-change"),
    path("patients/<int:patient_id>/actions/new/", views.action_add, name="action-add"),
    path(
        "patients/<int:patient_id>/actions/<int:action_id>/",
        views.action_change,
        name="action-change",
    ),
    path(
        "patients/<int:patient_id>/actions/<int:action_id>/done/",
        views.action_done,
        name="action-done",
    ),
    path("patients/<int:patient_id>/reviews/new/", views.review_add, name="review-add"),
    path("patients/<int:patient_id>/status/new/", views.status_add, name="status-add"),
    path("patients/<int:patient_id>/notes/new/", views.note_add, name="note-add"),
    path("patients/<int:patient_id>/relatives/new/", views.involvement_add, name="involvement-add"),
]
