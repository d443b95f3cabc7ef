from django.urls import path

from hab.operations import views

app_name = "operations"

urlpatterns = [
    path("", views.week, name="week"),
    path("warnings/", views.warnings, name="warnings"),
    path("sessions/<int:session_id>/assign/", views.assign, name="assign"),
    path("assignments/<int:assignment_id>/remove/", views.remove, name="remove"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/generate/", views.generate, name="generate"),
    path("calendar/holidays/", views.holidays, name="holidays"),
    path("calendar/template/", views.template, name="template"),
    path("calendar/exception/", views.exception, name="exception"),
    path("calendar/closure/", views.closure, name="closure"),
    path("calendar/exceptions/<int:exception_id>/withdraw/", views.withdraw, name="withdraw"),
    path("rule/", views.rule, name="rule"),
]
