"""Demo part of core: the two clinics of the trial and one user per role and clinic."""

from __future__ import annotations

from datetime import time

from stdnum.no import orgnr

from hab.core.models import RoleChangeKind
from hab.core.roles import Grant, HealthRegion, Role
from hab.core.services import clinic_create, pin_set, role_change_propose, staff_create

SLOTS = [
    ("morning", "Formiddag", time(8, 0), time(11, 0)),
    ("afternoon", "Ettermiddag", time(14, 0), time(17, 30)),
]

CLINICS = [
    ("oslo", "HAB Oslo", HealthRegion.SOUTH_EAST, 200),
    ("bergen", "HAB Bergen", HealthRegion.WEST, 100),
]

# Synthetic staff names per clinic, by role.
STAFF = {
    "oslo": {
        Role.DOCTOR: ("Ingrid", "Solberg"),
        Role.NURSE: ("Kari", "Nordmann"),
        Role.PSYCHOLOGIST: ("Henrik", "Aas"),
        Role.COORDINATOR: ("Mona", "Lie"),
        Role.CLINIC_LEAD: ("Tor", "Haugen"),
        Role.RESEARCHER: ("Silje", "Berg"),
        Role.PROGRAMME: ("Anders", "Moen"),
        Role.ADMIN: ("Eva", "Strand"),
    },
    "bergen": {
        Role.DOCTOR: ("Jonas", "Vik"),
        Role.NURSE: ("Lene", "Dahl"),
        Role.PSYCHOLOGIST: ("Marte", "Fjeld"),
        Role.COORDINATOR: ("Ola", "Brekke"),
        Role.CLINIC_LEAD: ("Hilde", "Sande"),
        Role.RESEARCHER: ("Per", "Lunde"),
        Role.PROGRAMME: ("Siri", "Myhre"),
        Role.ADMIN: ("Knut", "Hauge"),
    },
}
CLINICAL = {Role.DOCTOR, Role.NURSE, Role.PSYCHOLOGIST}
# The demo nurses' lock-screen PIN, for trying the shared tablet's lock (printed at start).
NURSE_PIN = "2580"


def demo_org_number(index: int) -> str:
    """A made-up organisation number with a valid check digit for the demo's clinic number
    ``index`` (the same in ``hab demo`` and ``hab generate``)."""
    base = 99_000_001 + 97 * index
    while True:
        for digit in "0123456789":
            if orgnr.is_valid(f"{base}{digit}"):
                return f"{base}{digit}"
        base += 1  # no check digit fits this base (a remainder of 10)


def contribute(ctx) -> None:
    for index, (code, name, region, capacity) in enumerate(CLINICS):
        ctx.clinics[code] = clinic_create(
            code=code,
            name=name,
            health_region=region,
            capacity=capacity,
            slots=SLOTS,
            org_number=demo_org_number(index),
        )
    for code, clinic in ctx.clinics.items():
        for role, (first, last) in STAFF[code].items():
            username = f"{role.value}.{code}"
            hpr = str(ctx.rng.randint(1_000_000, 9_999_999)) if role in CLINICAL else ""
            ctx.users[username] = staff_create(
                username=username,
                password=ctx.password,
                first_name=first,
                last_name=last,
                roles=[(clinic, role)],
                hpr_number=hpr,
            )
            if role == Role.NURSE:
                pin_set(user=ctx.users[username], pin=NURSE_PIN, password=ctx.password)
        # One role change waiting for a second person, so the role page shows the flow:
        # the clinic lead (or another administrator) approves or refuses it.
        role_change_propose(
            by=ctx.users[f"admin.{code}"],
            username=f"researcher.{code}",
            clinic=clinic,
            kind=RoleChangeKind.GRANT,
            role=Grant.RESEARCH_EXPORT_DATES,
            reason="Koblingsstudie mot Reseptregisteret godkjent av REK",
        )
    ctx.log.append(f"Clinics: {', '.join(ctx.clinics)}; staff: {len(ctx.users)} users.")
