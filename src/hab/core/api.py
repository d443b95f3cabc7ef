from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from hab.core import policy, services
from hab.core.access import Actor, actor_from_request
from hab.core.errors import NotFound
from hab.core.models import Channel, Clinic

router = Router(tags=["auth and clinics"])


def request_actor(request: HttpRequest) -> Actor:
    return actor_from_request(request, Channel.API)


def clinic_by_code(code: str) -> Clinic:
    """The clinic a request names; unknown codes are 404 like clinics one is not in."""
    clinic = Clinic.objects.filter(code=code).first()
    if clinic is None:
        raise NotFound("No such clinic.")
    return clinic


class BearerAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = services.token_user(token)
        if found is None:
            return None
        request.user, request.api_token = found
        return request.user


class Credentials(Schema):
    username: str
    password: str
    # The current code of the user's authenticator app, for users with two-factor login.
    otp: str | None = None


class TokenOut(Schema):
    token: str


class Message(Schema):
    detail: str


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: Message, 429: Message},
    summary="Log in",
    description="401 for a wrong username, password or two-factor code (`otp`, needed "
    "by users with two-factor login); 429 with Retry-After once repeated failures have "
    "locked the user name out from this address.",
)
def token_create(request: HttpRequest, credentials: Credentials):
    raw = services.token_create(
        username=credentials.username,
        password=credentials.password,
        otp=credentials.otp,
        request=request,
    )
    if raw is None:
        return Status(401, {"detail": "Wrong username or password."})
    return Status(200, {"token": raw})


@router.delete("/auth/token", response={204: None}, summary="Revoke the token in use")
def token_revoke(request: HttpRequest):
    services.token_revoke(token=request.api_token)
    return Status(204, None)


class SlotOut(Schema):
    code: str
    name: str
    starts_at: str
    ends_at: str


class ClinicOut(Schema):
    code: str
    name: str
    health_region: str
    capacity: int
    roles: list[str]
    slots: list[SlotOut]


class MeOut(Schema):
    username: str
    name: str
    hpr_number: str
    clinics: list[ClinicOut]


def _clinic_out(user, clinic: Clinic) -> dict:
    return {
        "code": clinic.code,
        "name": clinic.name,
        "health_region": clinic.health_region,
        "capacity": clinic.capacity,
        "roles": sorted(policy.roles_at(user, clinic)),
        "slots": [
            {
                "code": slot.code,
                "name": slot.name,
                "starts_at": slot.starts_at.strftime("%H:%M"),
                "ends_at": slot.ends_at.strftime("%H:%M"),
            }
            for slot in clinic.slots.all()
        ],
    }


@router.get("/me", response=MeOut, summary="Who I am and where I work")
def me(request: HttpRequest):
    user = request.user
    clinics = Clinic.objects.filter(pk__in=policy.roles_by_clinic(user)).prefetch_related("slots")
    return {
        "username": user.username,
        "name": user.get_full_name(),
        "hpr_number": user.hpr_number,
        "clinics": [_clinic_out(user, clinic) for clinic in clinics],
    }
