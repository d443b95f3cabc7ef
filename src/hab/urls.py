from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from hab.api import api
from hab.core import auth_views as hab_auth_views
from hab.core import clinic_views as core_clinic_views
from hab.core import lock_views as core_lock_views
from hab.core import oidc as hab_oidc
from hab.core import role_views as core_role_views
from hab.core import views as core_views
from hab.dosing import guest_views as dosing_guest_views
from hab.interop import views as interop_views
from hab.research import export_views as research_export_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("login/", hab_auth_views.LoginView.as_view(), name="login"),
    path("login/code/", hab_auth_views.two_factor_verify, name="two-factor-verify"),
    path("login/enrol/", hab_auth_views.two_factor_enrol, name="two-factor-enrol"),
    path("oidc/login/", hab_oidc.LoginStart.as_view(), name="oidc-login"),
    path("oidc/callback/", hab_oidc.LoginCallback.as_view(), name="oidc-callback"),
    # The admin's own login form would skip the second factor: HAB's login serves it.
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/", core_views.clinic_switch, name="clinic-switch"),
    path("clinic/settings/", core_clinic_views.clinic_settings, name="clinic-settings"),
    path("clinic/roles/", core_role_views.clinic_roles, name="clinic-roles"),
    path(
        "clinic/roles/<int:proposal_id>/decide/",
        core_role_views.clinic_role_decide,
        name="clinic-role-decide",
    ),
    path("lock/", core_lock_views.lock_screen, name="lock"),
    path("lock/alive/", core_lock_views.lock_alive, name="lock-alive"),
    path("me/pin/", core_lock_views.my_pin, name="my-pin"),
    path("me/tokens/", core_role_views.my_tokens, name="my-tokens"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("patients/<int:patient_id>/fhir/", interop_views.patient_fhir, name="patient-fhir"),
    path("patients/", include("hab.patients.urls")),
    path("intake/", include("hab.intake.urls")),
    path("dosing/", include("hab.dosing.urls")),
    # Guest dosing is dosing's authorisation, opened from the record where the doctor works.
    path(
        "prescribing/patients/<int:patient_id>/guest/",
        dosing_guest_views.guest_authorise,
        name="guest-authorise",
    ),
    path("prescribing/", include("hab.prescribing.urls")),
    path("stock/", include("hab.stock.urls")),
    path("incidents/", include("hab.incidents.urls")),
    path("care/", include("hab.care.urls")),
    path("operations/", include("hab.operations.urls")),
    path("research/export/", research_export_views.export_page, name="research-export"),
    path("research/", include("hab.research.urls")),
    path("evaluation/", include("hab.evaluation.urls")),
    path("interop/", include("hab.interop.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

# A value in the address no page can use (?date=0001-01-01) is a 400 page that says so.
handler400 = "hab.core.views.bad_request"
