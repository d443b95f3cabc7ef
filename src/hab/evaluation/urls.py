from django.urls import path

from hab.evaluation import views

app_name = "evaluation"

urlpatterns = [path("", views.dashboard, name="dashboard")]
