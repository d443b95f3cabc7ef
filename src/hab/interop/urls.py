from django.urls import path

from hab.interop import views

app_name = "interop"

urlpatterns = [
    path("lmdi/", views.lmdi_page, name="lmdi"),
]
