"""Reads of prescribing: the clinic's active protocol and patients' active prescriptions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Q
from django.utils import timezone

from hab.dosing import rules
from hab.prescribing.models import DosingProtocol, Prescription


def active_protocol(clinic_id: int) -> DosingProtocol | None:
    """The newest version; None when there is none or it lacks the required local values."""
    protocol = DosingProtocol.objects.filter(clinic_id=clinic_id).order_by("-version").first()
    return protocol if protocol is not None and protocol.complete else None


def latest_protocol(clinic_id: int) -> DosingProtocol | None:
    return DosingProtocol.objects.filter(clinic_id=clinic_id).order_by("-version").first()


def protocol_rules(protocol: DosingProtocol | None) -> rules.Protocol | None:
    if protocol is None or not protocol.complete:
        return None
    g = rules.Group

    def number(value):
        return None if value is None else float(value)

    return rules.Protocol(
        version=protocol.version,
        max_single_mg={
            g.DAM: number(protocol.dam_max_single_mg),
            g.HYDROMORPHONE: number(protocol.hydromorphone_max_single_mg),
            g.METHADONE: None,
            g.MORPHINE: None,
        },
        max_daily_mg={
            g.DAM: float(protocol.dam_max_daily_mg),
            g.HYDROMORPHONE: float(protocol.hydromorphone_max_daily_mg),
            g.METHADONE: float(protocol.methadone_max_daily_mg),
            g.MORPHINE: float(protocol.morphine_max_daily_mg),
        },
        breath_alcohol_max_permille=float(protocol.breath_alcohol_max_permille),
        iv_warn_daily_mg=float(protocol.dam_iv_warn_daily_mg),
        min_interval_minutes=protocol.min_interval_minutes,
        induction_interval_minutes=protocol.induction_interval_minutes,
        observation_minutes=protocol.observation_minutes,
        first_iv_dose_mg=float(protocol.first_iv_dose_mg),
        day1_max_iv_dose_mg=float(protocol.day1_max_iv_dose_mg),
        first_oral_dose_mg=float(protocol.first_oral_dose_mg),
        oral_daily_step_mg=float(protocol.oral_daily_step_mg),
        step_pct_two_sessions=protocol.step_pct_two_sessions,
        prev_day_pct_three_sessions=protocol.prev_day_pct_three_sessions,
        titration_days=protocol.titration_days,
        missed_days_block=protocol.missed_days_block,
        missed_days_reduce=protocol.missed_days_reduce,
        missed_reduce_pct=protocol.missed_reduce_pct,
        sedation_reduce_level=protocol.sedation_reduce_level,
        sedation_reduce_pct=protocol.sedation_reduce_pct,
        sedation_block_level=protocol.sedation_block_level,
        respiratory_rate_min=protocol.respiratory_rate_min,
    )


def active_prescriptions(patient_ids: Iterable[int], day: date) -> dict[int, list[Prescription]]:
    """Each patient's prescriptions in force on the day: the last of each chain, not a stop,
    within its validity."""
    found: dict[int, list[Prescription]] = {}
    queryset = Prescription.objects.filter(
        patient_id__in=list(patient_ids),
        superseded_by__isnull=True,
        stopped_on__isnull=True,
        valid_from__lte=day,
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    for prescription in queryset.order_by("created_at", "id"):
        found.setdefault(prescription.patient_id, []).append(prescription)
    return found


def prescription_for(patient_id: int, medication: str, day: date) -> Prescription | None:
    group = rules.MEDICATION_GROUP.get(medication)
    for prescription in active_prescriptions([patient_id], day).get(patient_id, []):
        if rules.MEDICATION_GROUP[prescription.medication] == group:
            return prescription
    return None


def chain_head(patient_id: int, medication: str) -> Prescription | None:
    """The newest prescription of the medication's group, stopped or not: the next one
    supersedes it."""
    group = rules.MEDICATION_GROUP[medication]
    meds = [m for m, g in rules.MEDICATION_GROUP.items() if g == group]
    return (
        Prescription.objects.filter(
            patient_id=patient_id, medication__in=meds, superseded_by__isnull=True
        )
        .order_by("-created_at", "-id")
        .first()
    )


def to_rule(prescription: Prescription, slot: str) -> rules.Prescription:
    titration = None
    if prescription.titration_start_mg is not None:
        titration = rules.Titration(
            start_mg=float(prescription.titration_start_mg),
            step_mg=float(prescription.titration_step_mg),
            target_mg=float(prescription.titration_target_mg),
        )
    return rules.Prescription(
        medication=prescription.medication,
        dose_mg=prescription.dose_for(slot),
        daily_max_mg=float(prescription.daily_max_mg),
        issued_on=timezone.localdate(prescription.created_at),
        titration=titration,
    )
