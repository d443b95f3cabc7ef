"""Reports to Legemiddelregisteret: checked, written and logged as one disclosure."""

from __future__ import annotations

import datetime
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from hab.core import clock
from hab.core.access import Actor, access_log_write
from hab.core.errors import Invalid
from hab.core.models import AccessAction, Clinic
from hab.core.policy import Action, clinic_for_action
from hab.interop import codes, lmdi
from hab.patients.models import Patient


def lmdi_report(
    *,
    actor: Actor,
    clinic: Clinic,
    start: datetime.date,
    end: datetime.date,
    out: Path,
    sealed: bool = False,
) -> lmdi.Summary:
    """Writes the clinic's doses of ``start``–``end`` as LMDI Bundles to ``out`` (see
    ``lmdi.write``) and logs the disclosure of each patient in them. ``sealed`` writes
    Legemiddelregisteret's signed and encrypted envelope instead of the plain Bundle."""
    clinic_for_action(actor.user, clinic, Action.LMDI_REPORT)
    if end > clock.today():
        raise Invalid.one("to", _("The period cannot end after today."))
    lmdi.check_period(clinic, start, end)
    seal = _sealer(clinic, start, end) if sealed else None
    summary = lmdi.write(clinic, start, end, out, now=clock.now(), seal=seal)
    with transaction.atomic():
        details = {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "bundles": summary.bundles,
            "sealed": sealed,
        }
        for patient in Patient.objects.filter(pk__in=sorted(summary.patients)):
            access_log_write(
                actor=actor,
                patient=patient,
                action=AccessAction.DISCLOSE,
                what="register report",
                details=details,
                policy_action=Action.LMDI_REPORT,
                clinic_id=clinic.pk,
            )
    return summary


def _sealer(clinic: Clinic, start: datetime.date, end: datetime.date):
    """The envelope for each Bundle, with the configured certificates; refused before
    anything is written when they are missing."""
    from hab.interop import envelope

    try:
        credentials = envelope.configured_credentials()
    except envelope.EnvelopeError as error:
        raise Invalid.one(
            "sealed",
            _("Signing for Legemiddelregisteret is not set up (%(detail)s)") % {"detail": error},
        ) from error
    period_from = datetime.datetime.combine(start, datetime.time.min, tzinfo=codes.OSLO)
    period_to = datetime.datetime.combine(end, datetime.time.max, tzinfo=codes.OSLO)

    def seal(data: bytes) -> dict:
        return envelope.seal_configured(
            data,
            credentials=credentials,
            organisation_number=clinic.org_number,
            period_from=period_from,
            period_to=period_to,
            generated_at=clock.now(),
        )

    return seal
