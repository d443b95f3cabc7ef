"""Protocol versions as a clinic makes them: proposed by the clinic lead, confirmed by the
named doctor with their own password."""

from __future__ import annotations

from hab.core.access import Actor
from hab.core.models import Clinic, User
from hab.prescribing import services
from hab.prescribing.models import DosingProtocol
from tests.conftest import PASSWORD

DEMO = {"dam_max_single_mg": 400, "breath_alcohol_max_permille": 0.2}


def propose(
    staff: dict[str, User],
    clinic: str = "oslo",
    values: dict | None = None,
    *,
    reason: str = "Demo values, not a clinical recommendation",
    demo_values: bool = False,
) -> DosingProtocol:
    return services.protocol_create(
        actor=Actor.system(staff[f"clinic_lead.{clinic}"]),
        clinic=Clinic.objects.get(code=clinic),
        doctor=f"doctor.{clinic}",
        reason=reason,
        values=DEMO if values is None else values,
        demo_values=demo_values,
    )


def confirm(staff: dict[str, User], protocol: DosingProtocol) -> DosingProtocol:
    """The named doctor's sign-off: from now on the version is in force."""
    services.protocol_confirm(
        actor=Actor.system(protocol.doctor),
        clinic=protocol.clinic,
        version=protocol.version,
        password=PASSWORD,
    )
    return protocol


def in_force(staff: dict[str, User], clinic: str = "oslo", values: dict | None = None, **kw):
    """A version proposed and confirmed, as every test that doses needs one."""
    return confirm(staff, propose(staff, clinic, values, **kw))
