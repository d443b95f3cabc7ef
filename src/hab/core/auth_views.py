"""Logging in and out: password, then the second factor (code, or enrolment first).

The password step does not sign the user in when a second factor is due: it keeps the
user's id in the session as *pending* for a few minutes, and only the code (or the
confirmed enrolment) completes the login. Nothing else in HAB ever sees a half
logged-in user.
"""

from __future__ import annotations

import time

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from hab.core import security, two_factor
from hab.core.security import KIOSK_COOKIE, SESSION_KIOSK, mark_active

SESSION_PENDING = "hab_2fa_pending"
# The time a user has between the password and the code.
PENDING_SECONDS = 5 * 60
KIOSK_COOKIE_AGE = 365 * 24 * 3600


class LoginForm(AuthenticationForm):
    kiosk = forms.BooleanField(
        required=False,
        label=gettext_lazy("Shared tablet or PC"),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _complete_login(
    request: HttpRequest, user, *, kiosk: bool, next_url: str, device=None, external_mfa=False
) -> HttpResponse:
    login(request, user, backend=getattr(user, "backend", None))
    if external_mfa:
        request.session[two_factor.SESSION_EXTERNAL_MFA] = True
    if device is not None:
        otp_login(request, device)
    request.session[SESSION_KIOSK] = kiosk
    if kiosk:
        # Also gone when the browser closes.
        request.session.set_expiry(0)
    mark_active(request)
    response = HttpResponseRedirect(next_url)
    if kiosk:
        response.set_cookie(
            KIOSK_COOKIE,
            "1",
            max_age=KIOSK_COOKIE_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    else:
        response.delete_cookie(KIOSK_COOKIE, samesite="Lax")
    return response


def login_page_context(request: HttpRequest) -> dict:
    return {
        "kiosk_minutes": settings.HAB_KIOSK_IDLE_MINUTES,
        "oidc_enabled": settings.HAB_OIDC_ENABLED,
        "oidc_label": settings.HAB_OIDC_LABEL,
        "idle_logout": bool(request.GET.get("idle")),
    }


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def get_initial(self):
        return {"kiosk": self.request.COOKIES.get(KIOSK_COOKIE) == "1"}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs) | login_page_context(self.request)

    def form_valid(self, form):
        kiosk = form.cleaned_data.get("kiosk", False)
        next_url = _safe_next(self.request, self.get_redirect_url())
        return start_login(self.request, form.get_user(), kiosk=kiosk, next_url=next_url)


def start_login(request: HttpRequest, user, *, kiosk: bool, next_url: str) -> HttpResponse:
    """After the first factor: sign in, or hold the user as pending for the code."""
    if not two_factor.needs_second_factor(user):
        return _complete_login(request, user, kiosk=kiosk, next_url=next_url)
    # A fresh session id for the pending step, as login() would give.
    request.session.cycle_key()
    request.session[SESSION_PENDING] = {
        "user": user.pk,
        "backend": user.backend,
        "at": int(time.time()),
        "next": next_url,
        "kiosk": kiosk,
    }
    if two_factor.has_device(user):
        return redirect("two-factor-verify")
    return redirect("two-factor-enrol")


def _pending_user(request: HttpRequest):
    """The user who gave the right password a moment ago, or None."""
    pending = request.session.get(SESSION_PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(SESSION_PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        return None, None
    user.backend = pending["backend"]
    return user, pending


def _finish(request: HttpRequest, user, pending: dict, device) -> HttpResponse:
    request.session.pop(SESSION_PENDING, None)
    return _complete_login(
        request, user, kiosk=pending["kiosk"], next_url=pending["next"], device=device
    )


def _code_failed(request: HttpRequest, user) -> bool:
    """A wrong code counts as a failed login: django-axes locks out as for passwords.
    True when this failure locked the user out (the pending login is then dropped)."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    if getattr(request, "axes_locked_out", False):
        request.session.pop(SESSION_PENDING, None)
        return True
    return False


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = two_factor.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            return _finish(request, user, pending, device)
        if _code_failed(request, user):
            return redirect("login")  # django-axes answers with the lock-out page
        form.add_error("code", _("The code is not right. Use the newest code from the app."))
    return render(request, "core/two_factor_verify.html", {"form": form, "pending_user": user})


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    user, pending = _pending_user(request)
    if user is None:
        return redirect("login")
    if two_factor.has_device(user):
        return redirect("two-factor-verify")
    device = two_factor.enrolment_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.enrolment_confirm(user=user, device=device, code=form.cleaned_data["code"]):
            return _finish(request, user, pending, device)
        if _code_failed(request, user):
            return redirect("login")
        form.add_error(
            "code",
            _("The code is not right. Check that the phone's clock is correct and try again."),
        )
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "pending_user": user,
        "qr_svg": qr.svg_inline(
            scale=5, border=4, title=_("QR code for the authenticator app"), svgclass="qr"
        ),
        "secret": two_factor.secret_text(device),
    }
    return render(request, "core/two_factor_enrol.html", context)


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """What a locked-out login gets: 429, as JSON on the API and as the login page."""
    message = security.lockout_message(request)
    retry_after = str(security.lockout_minutes(request) * 60 or 3600)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        context = login_page_context(request) | {
            "form": LoginForm(request),
            "locked_out": message,
            "next": request.POST.get("next", ""),
        }
        response = render(request, "core/login.html", context, status=429)
    response["Retry-After"] = retry_after
    return response
