"""Optional login through an OpenID Connect provider (HelseID or another), with
mozilla-django-oidc.

Off unless HAB_OIDC_* is configured (see settings.py and docs/operations.md). The
provider proves who the person is; HAB decides what they may do. A claim of the
provider's (HelseID's HPR number, or ``preferred_username``) is matched to one existing,
active HAB user; nobody is created and no role comes from the provider.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from hab.core.security import KIOSK_COOKIE

log = logging.getLogger(__name__)


class HabOIDCBackend(OIDCAuthenticationBackend):
    """Maps HAB_OIDC_CLAIM to the user field HAB_OIDC_USER_FIELD; never creates users."""

    def authenticate(self, request, **kwargs):
        # Only the provider's callback carries a code; other logins are not ours.
        if not settings.HAB_OIDC_ENABLED or request is None:
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        # mozilla-django-oidc checks the signature and the nonce; the audience and the
        # issuer are checked here, so a token the provider issued to another client or
        # another provider's token is refused.
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The id_token was issued to another client.")
        issuer = settings.OIDC_OP_ISSUER
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation("The id_token comes from another issuer.")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        # The id_token's claims and the userinfo answer together: HelseID puts the HPR
        # number in either, depending on the scopes granted.
        claims = dict(payload) | dict(self.get_userinfo(access_token, id_token, payload))
        value = str(claims.get(settings.HAB_OIDC_CLAIM) or "").strip()
        if not value:
            log.warning("OIDC login without the claim %s", settings.HAB_OIDC_CLAIM)
            return None
        users = list(
            self.UserModel.objects.filter(**{settings.HAB_OIDC_USER_FIELD: value}, is_active=True)[
                :2
            ]
        )
        if len(users) != 1:
            if users:
                raise SuspiciousOperation("Several HAB users match the OIDC claim.")
            log.warning("OIDC login of %s=%s: no such HAB user", settings.HAB_OIDC_CLAIM, value)
            return None
        return users[0]

    def filter_users_by_claims(self, claims):  # pragma: no cover - replaced above
        return self.UserModel.objects.none()

    def create_user(self, claims):
        raise SuspiciousOperation("HAB never creates users from the identity provider.")


def _enabled() -> None:
    if not settings.HAB_OIDC_ENABLED:
        raise Http404


class LoginStart(OIDCAuthenticationRequestView):
    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled()
        return super().get(request)


class LoginCallback(OIDCAuthenticationCallbackView):
    @property
    def failure_url(self) -> str:
        return "/login/?oidc_failed=1"

    def get(self, request: HttpRequest) -> HttpResponse:
        _enabled()
        try:
            return super().get(request)
        except requests.RequestException:
            # The provider is down or refused the code: back to the login page.
            log.exception("OIDC provider request failed")
            return self.login_failure()

    def login_success(self) -> HttpResponse:
        from hab.core.auth_views import _complete_login, start_login

        kiosk = self.request.COOKIES.get(KIOSK_COOKIE) == "1"
        user = self.user
        user.backend = "hab.core.oidc.HabOIDCBackend"
        if settings.HAB_OIDC_IS_2FA:
            # HelseID's own login is two-factor (BankID, Buypass, smart card).
            return _complete_login(
                self.request, user, kiosk=kiosk, next_url=self.success_url, external_mfa=True
            )
        return start_login(self.request, user, kiosk=kiosk, next_url=self.success_url)
