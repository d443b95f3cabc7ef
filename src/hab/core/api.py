from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from hab.core import policy, selectors, services
from hab.core.access import Actor, actor_from_request
from hab.core.api_contract import Input
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


class Credentials(Input):
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
    'by users with two-factor login: without it the answer is 401 "Second factor '
    'required.", which does not count as a failed login); 429 with Retry-After once '
    "repeated failures have locked the user name out from this address. A token lasts "
    "HAB_API_TOKEN_HOURS (12 by default).",
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
    services.token_revoke(token=request.api_token, request=request)
    return Status(204, None)


class TokenInfo(Schema):
    id: int
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


@router.get("/me/tokens", response=list[TokenInfo], summary="My API tokens that still work")
def my_tokens(request: HttpRequest):
    return selectors.tokens_of(request.user)


@router.delete("/me/tokens/{int:token_id}", response={204: None}, summary="Revoke a token of mine")
def my_token_revoke(request: HttpRequest, token_id: int):
    services.token_revoke_own(user=request.user, token_id=token_id, request=request)
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


# --- roles: one proposes, a second person decides --------------------------------------


class ProposalIn(Input):
    username: str
    kind: str
    role: str
    reason: str


class DecisionIn(Input):
    approved: bool
    note: str = ""


class DecisionOut(Schema):
    at: datetime
    by: str
    approved: bool
    note: str


class ProposalOut(Schema):
    id: int
    at: datetime
    proposed_by: str
    username: str
    clinic: str
    kind: str
    role: str
    reason: str
    decision: DecisionOut | None


class StaffRoles(Schema):
    username: str
    name: str
    roles: list[str]


class RolesOut(Schema):
    pending: list[ProposalOut]
    staff: list[StaffRoles]
    history: list[ProposalOut]


def _proposal_out(proposal) -> dict:
    decision = getattr(proposal, "decision", None)
    return {
        "id": proposal.pk,
        "at": proposal.at,
        "proposed_by": proposal.proposed_by.username,
        "username": proposal.user.username,
        "clinic": proposal.clinic.code,
        "kind": proposal.kind,
        "role": proposal.role,
        "reason": proposal.reason,
        "decision": None
        if decision is None
        else {
            "at": decision.at,
            "by": decision.by.username,
            "approved": decision.approved,
            "note": decision.note,
        },
    }


def _member_clinic(request: HttpRequest, code: str) -> Clinic:
    clinic = clinic_by_code(code)
    if not policy.is_member(request.user, clinic):
        raise NotFound("No such clinic.")
    return clinic


@router.get(
    "/clinics/{code}/roles",
    response=RolesOut,
    summary="The clinic's role proposals, staff and history (administrator, clinic lead)",
)
def clinic_roles(request: HttpRequest, code: str):
    page = selectors.role_changes_for(request.user, _member_clinic(request, code))
    return {
        "pending": [_proposal_out(p) for p in page.pending],
        "staff": [
            {
                "username": row.user.username,
                "name": row.user.get_full_name(),
                "roles": [str(r) for r in row.roles],
            }
            for row in page.staff
        ],
        "history": [_proposal_out(p) for p in page.decided],
    }


@router.post(
    "/clinics/{code}/role-proposals",
    response={201: ProposalOut},
    summary="Propose granting or removing a role",
    description="`kind`: `grant` or `remove`; `role`: a role code, or "
    "`research.export_dates`. Nothing changes until a second person approves. 403 for a "
    "change to one's own roles; 422 when the person already has (or lacks) the role or "
    "a proposal for it is waiting.",
)
def role_propose(request: HttpRequest, code: str, payload: ProposalIn):
    proposal = services.role_change_propose(
        by=request.user, clinic=_member_clinic(request, code), **payload.model_dump()
    )
    return Status(201, _proposal_out(proposal))


@router.post(
    "/role-proposals/{int:proposal_id}/decision",
    response={201: ProposalOut},
    summary="Approve or refuse a role proposal (a second person)",
    description="403 for one's own proposal or a change to one's own roles; 409 once "
    "decided. An approval changes the role at once; a removal revokes the person's "
    "API tokens.",
)
def role_decide(request: HttpRequest, proposal_id: int, payload: DecisionIn):
    decision = services.role_change_decide(
        by=request.user,
        proposal_id=proposal_id,
        approved=payload.approved,
        note=payload.note,
        request=request,
    )
    return Status(201, _proposal_out(decision.proposal))
