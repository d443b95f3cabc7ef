from django.urls import path

from hab.incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_new, name="new"),
    path("<int:incident_id>/", views.incident_detail, name="detail"),
    path("summary/", views.summary, name="summary"),
]
