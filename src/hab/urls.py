from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hab.api import api
from hab.core import views as core_views
from hab.research import export_views as research_export_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="core/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/", core_views.clinic_switch, name="clinic-switch"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("patients/", include("hab.patients.urls")),
    path("intake/", include("hab.intake.urls")),
    path("dosing/", include("hab.dosing.urls")),
    path("prescribing/", include("hab.prescribing.urls")),
    path("stock/", include("hab.stock.urls")),
    path("incidents/", include("hab.incidents.urls")),
    path("care/", include("hab.care.urls")),
    path("operations/", include("hab.operations.urls")),
    path("research/export/", research_export_views.export_page, name="research-export"),
    path("research/", include("hab.research.urls")),
    path("evaluation/", include("hab.evaluation.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
