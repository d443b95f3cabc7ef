from django.urls import path

from hab.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("charts/<slug:name>.svg", views.chart, name="chart"),
    path("report.pdf", views.report_pdf, name="report"),
    path("costs/new/", views.cost_new, name="cost_new"),
    path("grants/new/", views.grant_new, name="grant_new"),
]
