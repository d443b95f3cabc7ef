"""The lock screen of a shared tablet and the user's own lock-screen PIN (hab.core.lock)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from hab.core import lock, rules
from hab.core.errors import Invalid
from hab.core.models import SecurityEventKind
from hab.core.services import pin_remove, pin_set, security_event_record
from hab.core.web import add_errors


class UnlockForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("PIN or password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "autofocus": True, "class": "pin-input"}
        ),
    )


def _unlocked_by(user, secret: str) -> str | None:
    """ "pin" or "password" when ``secret`` is the user's PIN or password, else None."""
    if user.lock_pin and secret.isdigit() and check_password(secret, user.lock_pin):
        return "pin"
    if user.check_password(secret):
        return "password"
    return None


@never_cache
@sensitive_post_parameters("secret")
def lock_screen(request: HttpRequest) -> HttpResponse:
    """GET locks the session (the page's timer or the Lock button sends the tablet here);
    POST unlocks it with the PIN or the password and goes back to the page that was open.
    Too many wrong tries log the session out."""
    next_url = lock.safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
    if not lock.is_shared(request):
        # Only shared sessions lock; anyone else goes straight back.
        return redirect(next_url)
    if request.method == "GET":
        lock.lock(request, reason="idle" if request.GET.get("reason") == "idle" else "manual")
    elif not lock.is_locked(request):
        return redirect(next_url)
    request.hab_locked = True
    user = request.user
    form = UnlockForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        method = _unlocked_by(user, form.cleaned_data["secret"])
        if method is not None:
            lock.unlock(request)
            security_event_record(
                user=user,
                kind=SecurityEventKind.UNLOCKED,
                request=request,
                clinic=request.clinic,
                details={"method": method},
            )
            return redirect(next_url)
        failures = request.session.get(lock.SESSION_UNLOCK_FAILURES, 0) + 1
        request.session[lock.SESSION_UNLOCK_FAILURES] = failures
        security_event_record(
            user=user,
            kind=SecurityEventKind.UNLOCK_FAILED,
            request=request,
            clinic=request.clinic,
            details={"attempt": failures},
        )
        left = rules.unlock_attempts_left(failures)
        if left == 0:
            security_event_record(
                user=user,
                kind=SecurityEventKind.UNLOCK_LOGOUT,
                request=request,
                clinic=request.clinic,
                details={"attempts": failures},
            )
            logout(request)
            messages.error(
                request,
                _("Too many wrong PINs or passwords at the lock screen: you were logged out."),
            )
            return redirect("login")
        # The field shows nothing back (a password input never renders its value).
        form.add_error(
            "secret",
            _("Wrong PIN or password. %(left)d tries left before you are logged out.")
            % {"left": left},
        )
    context = {"form": form, "next": next_url, "has_pin": bool(user.lock_pin)}
    return render(request, "core/lock.html", context, status=200)


@require_POST
def lock_alive(request: HttpRequest) -> HttpResponse:
    """The page's script reports taps and typing that sent no request, so the server's
    idle clock agrees with the screen's (the middleware counts this request)."""
    if not request.user.is_authenticated:
        return redirect("login")
    return HttpResponse(status=204)


class PinForm(forms.Form):
    pin = forms.CharField(
        label=gettext_lazy("New PIN"),
        required=False,
        strip=False,
        max_length=rules.PIN_MAX_DIGITS,
        help_text=gettext_lazy("4 to 8 digits. Not one digit repeated or a run such as 1234."),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    pin_again = forms.CharField(
        label=gettext_lazy("The new PIN again"),
        required=False,
        strip=False,
        max_length=rules.PIN_MAX_DIGITS,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        data = super().clean()
        if self.data.get("action") != "remove":
            if not data.get("pin"):
                self.add_error("pin", _("Type the new PIN."))
            elif data.get("pin") != data.get("pin_again"):
                self.add_error("pin_again", _("The two PINs are not the same."))
        return data


@never_cache
@login_required
@sensitive_post_parameters("pin", "pin_again", "password")
def my_pin(request: HttpRequest) -> HttpResponse:
    """The user's own lock-screen PIN: set, change or remove it."""
    form = PinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "remove":
                pin_remove(user=request.user, password=data["password"], request=request)
                messages.success(request, _("Your PIN is removed. Unlock with your password."))
            else:
                pin_set(
                    user=request.user, pin=data["pin"], password=data["password"], request=request
                )
                messages.success(request, _("Your PIN is saved."))
            return redirect("my-pin")
        except Invalid as error:
            add_errors(form, error)
    return render(
        request, "core/my_pin.html", {"form": form, "has_pin": bool(request.user.lock_pin)}
    )
