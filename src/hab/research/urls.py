from django.urls import path

from hab.research import views

app_name = "research"

urlpatterns = [
    path("", views.follow_up_list, name="list"),
    path("patients/<int:patient_id>/", views.patient_follow_ups, name="patient"),
    path("follow-ups/<int:follow_up_id>/interview/", views.interview, name="interview"),
    path("responses/<int:response_id>/", views.response_view, name="response"),
]
