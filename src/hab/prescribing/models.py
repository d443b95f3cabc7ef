from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hab.core.models import Clinic
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing import rules


class Medication(models.TextChoices):
    DAM_INJECTABLE = "dam_injectable", _("Diacetylmorphine, injection")
    DAM_TABLET_IR = "dam_tablet_ir", _("Diacetylmorphine, tablet (immediate release)")
    DAM_TABLET_SR = "dam_tablet_sr", _("Diacetylmorphine, tablet (slow release)")
    METHADONE_ORAL = "methadone_oral", _("Methadone, oral")
    MORPHINE_SR_ORAL = "morphine_sr_oral", _("Morphine slow release, oral")
    HYDROMORPHONE_INJECTABLE = "hydromorphone_injectable", _("Hydromorphone, injection")


# ATC codes used in exports and FHIR (http://www.whocc.no/atc).
ATC = {
    "dam_injectable": "N07BC06",
    "dam_tablet_ir": "N07BC06",
    "dam_tablet_sr": "N07BC06",
    "methadone_oral": "N07BC02",
    "morphine_sr_oral": "N02AA01",
    "hydromorphone_injectable": "N02AA03",
}


class Route(models.TextChoices):
    IV = "iv", _("Intravenous")
    IM = "im", _("Intramuscular")
    ORAL = "oral", _("Oral")


ROUTES = {
    "dam_injectable": {"iv", "im"},
    "hydromorphone_injectable": {"iv", "im"},
    "dam_tablet_ir": {"oral"},
    "dam_tablet_sr": {"oral"},
    "methadone_oral": {"oral"},
    "morphine_sr_oral": {"oral"},
}


def _range_constraints() -> list[models.CheckConstraint]:
    found = []
    for name, bounds in rules.PROTOCOL_RANGES.items():
        condition = Q(**{f"{name}__gte": bounds.low, f"{name}__lte": bounds.high})
        if bounds.optional:
            condition = Q(**{f"{name}__isnull": True}) | condition
        found.append(models.CheckConstraint(condition=condition, name=f"protocol_{name}_range"))
    return found


def _order_constraints() -> list[models.CheckConstraint]:
    found = []
    for order in rules.PROTOCOL_ORDERS:
        if (order.setting, order.other) == ("sedation_block_level", "sedation_reduce_level"):
            continue  # protocol_sedation_levels_ordered, from before the table
        lookup = "gt" if order.strict else "gte"
        condition = Q(**{f"{order.setting}__{lookup}": F(order.other)})
        for name in (order.setting, order.other):
            if rules.PROTOCOL_RANGES[name].optional:
                condition = Q(**{f"{name}__isnull": True}) | condition
        found.append(
            models.CheckConstraint(
                condition=condition, name=f"protocol_{order.setting}_{order.other}"[:63]
            )
        )
    for first, second in rules.PROTOCOL_TOGETHER:
        found.append(
            models.CheckConstraint(
                condition=Q(**{f"{first}__isnull": True, f"{second}__isnull": True})
                | Q(**{f"{first}__isnull": False, f"{second}__isnull": False}),
                name=f"protocol_{first}_with_{second}",
            )
        )
    return found


class DosingProtocol(models.Model):
    """One version of a clinic's dosing protocol. Never edited: a change is a new version,
    proposed by the clinic lead, naming the doctor who must confirm it; it is in force
    from that doctor's confirmation (``ProtocolSignoff``) until a newer version is
    confirmed. Every value lies in its clinical range (``rules.PROTOCOL_RANGES``). Values
    without a published source (single-dose maximum, breath-alcohol limit) must be set
    before a version can be confirmed."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="protocols")
    version = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("doctor who agreed"),
    )
    reason = models.CharField(_("what changed and why"), max_length=500)
    demo_values = models.BooleanField(
        _("demo values, not a clinical recommendation"), default=False
    )

    dam_max_single_mg = models.DecimalField(
        _("DAM single-dose maximum (mg)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    dam_max_daily_mg = models.DecimalField(
        _("DAM daily maximum (mg)"), max_digits=6, decimal_places=1, default=1000
    )
    dam_iv_warn_daily_mg = models.DecimalField(
        _("warn above this IV DAM per day (mg)"), max_digits=6, decimal_places=1, default=600
    )
    hydromorphone_max_single_mg = models.DecimalField(
        _("hydromorphone single-dose maximum (mg)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
    )
    hydromorphone_max_daily_mg = models.DecimalField(
        _("hydromorphone daily maximum (mg)"), max_digits=6, decimal_places=1, default=500
    )
    methadone_max_daily_mg = models.DecimalField(
        _("methadone daily maximum (mg)"), max_digits=6, decimal_places=1, default=150
    )
    morphine_max_daily_mg = models.DecimalField(
        _("slow-release morphine daily maximum (mg)"), max_digits=6, decimal_places=1, default=600
    )
    min_interval_minutes = models.PositiveSmallIntegerField(
        _("minimum interval between doses (min)"), default=180
    )
    induction_interval_minutes = models.PositiveSmallIntegerField(
        _("minimum interval on the first day (min)"), default=30
    )
    observation_minutes = models.PositiveSmallIntegerField(
        _("observation after a dose (min)"), default=20
    )
    first_iv_dose_mg = models.DecimalField(
        _("first IV dose (mg)"), max_digits=6, decimal_places=1, default=15
    )
    day1_max_iv_dose_mg = models.DecimalField(
        _("later IV doses on day 1, each (mg)"), max_digits=6, decimal_places=1, default=30
    )
    first_oral_dose_mg = models.DecimalField(
        _("first oral DAM dose (mg)"), max_digits=6, decimal_places=1, default=100
    )
    oral_daily_step_mg = models.DecimalField(
        _("oral DAM daily increase at most (mg)"), max_digits=6, decimal_places=1, default=300
    )
    step_pct_two_sessions = models.PositiveSmallIntegerField(
        _("titration, 2 sessions a day: largest increase over the previous dose (%)"), default=50
    )
    prev_day_pct_three_sessions = models.PositiveSmallIntegerField(
        _("titration, 3 sessions a day: largest share of yesterday's total (%)"), default=50
    )
    titration_days = models.PositiveSmallIntegerField(_("titration days"), default=3)
    missed_days_block = models.PositiveSmallIntegerField(
        _("days without a dose before a doctor must review"), default=3
    )
    missed_days_reduce = models.PositiveSmallIntegerField(
        _("days without a dose before the dose is reduced"), null=True, blank=True
    )
    missed_reduce_pct = models.PositiveSmallIntegerField(
        _("reduction after missed days (%)"), null=True, blank=True
    )
    sedation_reduce_level = models.PositiveSmallIntegerField(
        _("sedation (POSS) that reduces the dose"), default=3
    )
    sedation_reduce_pct = models.PositiveSmallIntegerField(
        _("reduction at that sedation (%)"), default=50
    )
    sedation_block_level = models.PositiveSmallIntegerField(
        _("sedation (POSS) that stops dosing"), default=4
    )
    intoxication_reduce_pct = models.PositiveSmallIntegerField(
        _("reduction when intoxication with other substances is suspected (%)"), default=50
    )
    oral_restart_pct = models.PositiveSmallIntegerField(
        _("methadone or slow-release morphine after missed days: first day at most (% of dose)"),
        default=50,
    )
    breath_alcohol_max_permille = models.DecimalField(
        _("breath alcohol above which no dose (‰)"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
    )
    respiratory_rate_min = models.PositiveSmallIntegerField(
        _("respiratory rate below which no dose (/min)"), null=True, blank=True
    )
    # Off: breath alcohol is measured before every dose (an empty field is refused). On:
    # only when intoxication is suspected, and an empty field means "not measured".
    breath_alcohol_on_suspicion_only = models.BooleanField(
        _("breath alcohol measured only on suspicion"), default=False
    )
    stock_count_hours = models.PositiveSmallIntegerField(
        _("count controlled drugs at least every (hours; 8 = every shift change)"), default=8
    )

    class Meta:
        ordering = ["clinic", "-version"]
        verbose_name = _("dosing protocol")
        verbose_name_plural = _("dosing protocols")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "version"], name="protocol_version_unique"),
            models.CheckConstraint(
                condition=Q(observation_minutes__gte=15), name="protocol_observation_at_least_15"
            ),
            models.CheckConstraint(
                condition=Q(sedation_block_level__gt=F("sedation_reduce_level")),
                name="protocol_sedation_levels_ordered",
            ),
            # The clinical ranges and their order (prescribing/rules.py), as a backstop
            # for any write that does not go through protocol_create.
            *_range_constraints(),
            *_order_constraints(),
        ]

    def __str__(self) -> str:
        return f"{self.clinic.code} v{self.version}"

    @property
    def complete(self) -> bool:
        """A version can be used only when the values without a source are set locally."""
        return self.dam_max_single_mg is not None and self.breath_alcohol_max_permille is not None


class ProtocolSignoff(models.Model):
    """The named doctor's confirmation of a protocol version, given with their own
    password (and second factor where required): from then on the version is in force.
    Append-only, one per version; it is the record of who put the version in force."""

    protocol = models.OneToOneField(
        DosingProtocol, on_delete=models.PROTECT, related_name="signoff"
    )
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(_("confirmed"))
    channel = models.CharField(_("channel"), max_length=10)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    second_factor = models.BooleanField(_("confirmed with a second factor"), default=False)

    class Meta:
        verbose_name = _("protocol confirmation")
        verbose_name_plural = _("protocol confirmations")

    def __str__(self) -> str:
        return f"{self.protocol} confirmed by {self.doctor_id}"


class Prescription(models.Model):
    """A doctor's prescription. Never edited: a new one supersedes it. Stopping is also a
    new prescription that supersedes the last, with ``stopped_on`` set and no doses."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="prescriptions")
    medication = models.CharField(_("medication"), max_length=30, choices=Medication.choices)
    route = models.CharField(_("route"), max_length=5, choices=Route.choices)
    doses_mg = models.JSONField(_("dose per session (mg)"))  # {"morning": 200, "afternoon": 250}
    daily_max_mg = models.DecimalField(_("daily maximum (mg)"), max_digits=6, decimal_places=1)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    titration_start_mg = models.DecimalField(
        _("titration: first dose (mg)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    titration_step_mg = models.DecimalField(
        _("titration: largest step per dose (mg)"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
    )
    titration_target_mg = models.DecimalField(
        _("titration: target dose (mg)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Why the doctor prescribed against a prescribing rule that allows an override
    # (methadone and slow-release morphine together); empty when no rule was overridden.
    override_reason = models.CharField(
        _("reason for overriding a prescribing rule"), max_length=500, blank=True, default=""
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    stopped_on = models.DateField(_("stopped"), null=True, blank=True)
    created_at = models.DateTimeField(_("prescribed"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("prescription")
        verbose_name_plural = _("prescriptions")
        indexes = [
            models.Index(fields=["patient", "medication"], name="rx_patient_medication"),
            # The ends of patients' chains (the dosing board's prescriptions in force) read
            # from the index alone: a patient's ids and what each supersedes.
            models.Index(fields=["patient", "supersedes"], include=["id"], name="rx_patient_chain"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(daily_max_mg__gt=0), name="rx_daily_max_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="rx_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_medication_display()} {self.doses_mg}"

    def dose_for(self, slot: str) -> float:
        return float(self.doses_mg.get(slot, 0) or 0)
