from django.urls import path

from hab.prescribing import views

app_name = "prescribing"

urlpatterns = [
    path("patients/<int:patient_id>/new/", views.prescription_create, name="create"),
    path("<int:prescription_id>/stop/", views.prescription_stop, name="stop"),
    path("protocol/", views.protocol, name="protocol"),
    path("protocol/<int:version>/confirm/", views.protocol_confirm, name="protocol-confirm"),
]
