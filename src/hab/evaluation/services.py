"""Writes of the evaluation: cost inputs and grants. Each is a new row (the tables are
append-only); the newest row for the same key is the figure in use."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.access import Actor
from hab.core.errors import Forbidden, Invalid
from hab.core.models import Clinic
from hab.core.policy import Action
from hab.evaluation.models import Category, CostInput, Grant

FIRST_YEAR = 2000
LAST_YEAR = 2100


def _check_year(year: int, problems: list[tuple[str, str]]) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        problems.append(("year", _("Give a year between 2000 and 2100.")))


@transaction.atomic
def cost_input_record(
    *,
    actor: Actor,
    clinic: Clinic,
    year: int,
    category: str,
    amount_nok: Decimal | None = None,
    fte: Decimal | None = None,
    cost_per_fte: Decimal | None = None,
    note: str = "",
) -> CostInput:
    """A clinic's cost for a year in one category; staff cost may be FTEs × cost per FTE."""
    if not policy.can(actor.user, Action.COSTS_EDIT, clinic):
        raise Forbidden(_("Your role does not give access to this."))
    problems: list[tuple[str, str]] = []
    _check_year(year, problems)
    if category not in Category.values:
        problems.append(("category", _("Choose staff, medication, premises or other.")))
    if (fte is None) != (cost_per_fte is None):
        problems.append(("fte", _("Give both the FTEs and the cost per FTE, or neither.")))
    elif fte is not None:
        if category != Category.STAFF:
            problems.append(("fte", _("FTEs are for staff costs only.")))
        if fte < 0 or cost_per_fte < 0:
            problems.append(("fte", _("FTEs and cost per FTE cannot be negative.")))
        if amount_nok is None and not problems:
            amount_nok = (fte * cost_per_fte).quantize(Decimal("0.01"))
    if amount_nok is None:
        problems.append(("amount_nok", _("Give the amount, or FTEs and cost per FTE.")))
    elif amount_nok < 0:
        problems.append(("amount_nok", _("The amount cannot be negative.")))
    elif fte is not None and amount_nok != (fte * cost_per_fte).quantize(Decimal("0.01")):
        problems.append(("amount_nok", _("The amount must equal FTEs × cost per FTE.")))
    if problems:
        raise Invalid.from_pairs(problems)
    return CostInput.objects.create(
        clinic=clinic,
        year=year,
        category=category,
        amount_nok=amount_nok,
        fte=fte,
        cost_per_fte=cost_per_fte,
        note=note.strip(),
        recorded_at=clock.now(),
        recorded_by=actor.user,
    )


@transaction.atomic
def grant_record(
    *,
    actor: Actor,
    funder: str,
    year: int,
    amount_nok: Decimal,
    clinic: Clinic | None = None,
    note: str = "",
) -> Grant:
    """A funder's grant for a year, for one clinic or (clinic None) the programme. Only the
    programme owner records programme-wide grants; a clinic lead records their clinic's."""
    allowed = (
        policy.can(actor.user, Action.COSTS_EDIT, clinic)
        if clinic is not None
        else any(
            policy.can(actor.user, Action.COSTS_EDIT, clinic_id)
            and "programme" in policy.roles_at(actor.user, clinic_id)
            for clinic_id in policy.clinic_ids_where(actor.user, Action.COSTS_EDIT)
        )
    )
    if not allowed:
        raise Forbidden(_("Your role does not give access to this."))
    problems: list[tuple[str, str]] = []
    _check_year(year, problems)
    if not funder.strip():
        problems.append(("funder", _("Name the funder.")))
    if amount_nok is None or amount_nok < 0:
        problems.append(("amount_nok", _("The amount cannot be negative.")))
    if problems:
        raise Invalid.from_pairs(problems)
    return Grant.objects.create(
        funder=funder.strip()[:120],
        year=year,
        amount_nok=amount_nok,
        clinic=clinic,
        note=note.strip(),
        recorded_at=clock.now(),
        recorded_by=actor.user,
    )
