"""Forms only parse and render; the rules live in services."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hab.core.forms import QuantityField, WholeNumberField
from hab.dosing.models import Intoxication, Outcome, Status

# Numbers as people write them: "7,5" in Norwegian, "7.5" in English.
NUMBER = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

SEDATION = [
    ("1", _("1 – awake and alert (or asleep, easily roused)")),
    ("2", _("2 – slightly drowsy, easily roused")),
    ("3", _("3 – frequently drowsy, drifts off mid-sentence")),
    ("4", _("4 – somnolent, minimal or no response")),
]
# The dose panel shows POSS as one row of four buttons with short names; the scale's
# full wording stays beside them.
SEDATION_SHORT = [
    ("1", _("1 awake")),
    ("2", _("2 slightly drowsy")),
    ("3", _("3 often drowsy")),
    ("4", _("4 somnolent")),
]


def alcohol_zero() -> str:
    """A measured 0.00 ‰ written the active language's way ("0,00" in bokmål)."""
    return number_format(Decimal("0.00"), 2)


SEDATION_SCALE = format_lazy("{} · {} · {} · {}", *(label for _value, label in SEDATION))


class DoseForm(forms.Form):
    identity_checked = forms.BooleanField(
        label=_("Identity checked against the photo"),
        error_messages={"required": _("Check the patient's identity first.")},
    )
    sedation = forms.TypedChoiceField(
        label=_("Sedation (POSS)"),
        choices=SEDATION_SHORT,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=SEDATION_SCALE,
    )
    breath_alcohol_permille = QuantityField(
        label=_("Breath alcohol (‰)"),
        min_value=0,
        max_value=5,
        decimal_places=2,
        localize=True,
        widget=NUMBER,
    )
    respiratory_rate = WholeNumberField(
        label=_("Respiratory rate (/min)"), required=False, min_value=1, max_value=79
    )
    intoxication = forms.ChoiceField(
        label=_("Intoxicated with other substances?"),
        choices=Intoxication.choices,
        initial=Intoxication.NONE,
        # Left unanswered it is "none", what the nurse sees chosen.
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Obvious: no dose. Suspected: the dose is reduced."),
    )
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s, label) for s, label in Status.choices if s != Status.MISSED],
        initial=Status.GIVEN,
        widget=forms.RadioSelect,
    )
    dose_mg = QuantityField(
        label=_("Dose given (mg)"), min_value=0, decimal_places=1, localize=True, widget=NUMBER
    )
    withheld_reason = forms.CharField(
        label=_("Reason (when withheld)"), required=False, max_length=500
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=500)

    def __init__(self, *args, alcohol_on_suspicion_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # The one-tap "0,00 measured" beside the field writes this (dosing/_alcohol.html).
        self.alcohol_zero = alcohol_zero()
        alcohol = self.fields["breath_alcohol_permille"]
        if alcohol_on_suspicion_only:
            # The clinic's protocol measures alcohol only on suspicion: empty is "not measured".
            alcohol.required = False
            alcohol.help_text = _("Leave empty when not measured (measured on suspicion).")
        else:
            alcohol.error_messages["required"] = _(
                "Measure the breath alcohol and enter it, or tap “%(zero)s measured”."
            ) % {"zero": self.alcohol_zero}

    @staticmethod
    def field_for(name: str) -> str:
        """The service names the assessment's fields "assessment.<name>"."""
        return name.removeprefix("assessment.")


class TopUpForm(forms.Form):
    """The first day's top-up right after the first injection, when it was tolerated."""

    sedation = forms.TypedChoiceField(
        label=_("Sedation (POSS) now"),
        choices=SEDATION_SHORT,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=SEDATION_SCALE,
    )
    dose_mg = QuantityField(
        label=_("Top-up (mg)"), min_value=0, decimal_places=1, localize=True, widget=NUMBER
    )


class ObservationForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    naloxone_mg = QuantityField(
        label=_("Naloxone given (mg)"),
        required=False,
        min_value=0,
        decimal_places=2,
        localize=True,
        widget=NUMBER,
    )
    note = forms.CharField(
        label=_("What happened"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BreachConfirmation(forms.Form):
    """The confirmation of a breach of the day's limits, shown only once the service has
    listed the breaches (a record of what happened is never refused, but never passes
    unnoticed either)."""

    confirm_breach = forms.BooleanField(
        label=_("I confirm this breach: it is what happened"), required=False
    )
    breach_reason = forms.CharField(
        label=_("Why were the limits broken?"), required=False, max_length=500
    )

    # The fields are shown once the breaches are listed: the page posts them from then on.
    breach_fields = ("confirm_breach", "breach_reason")

    def __init__(self, *args, confirming: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not confirming:
            for name in self.breach_fields:
                del self.fields[name]

    @classmethod
    def confirming(cls, data, prefix: str | None = None) -> bool:
        key = f"{prefix}-breach_reason" if prefix else "breach_reason"
        return data is not None and key in data


class CorrectionForm(BreachConfirmation):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    dose_mg = QuantityField(
        label=_("Dose (mg)"), min_value=0, decimal_places=1, localize=True, widget=NUMBER
    )
    reason = forms.CharField(label=_("Why is the record corrected?"), max_length=500)
    field_order = ["status", "dose_mg", "reason", "confirm_breach", "breach_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "breach_reason" in self.fields:
            self.fields["breach_reason"].help_text = _(
                "Leave empty when the reason for the correction says it."
            )


class BackEntryForm(BreachConfirmation):
    """One patient's line of the paper contingency list."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("given", _("Given")),
            ("partial", _("Partly given")),
            ("withheld", _("Withheld")),
            ("refused", _("Refused")),
            ("missed", _("Did not come")),
        ],
    )
    dose_mg = QuantityField(label=_("Dose (mg)"), required=False, decimal_places=1)
    time = forms.TimeField(label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}))
    given_by = forms.ChoiceField(label=_("Signed by"))
    sedation = forms.ChoiceField(
        label=_("POSS"),
        required=False,
        choices=[("", "–"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")],
    )
    breath_alcohol_permille = QuantityField(
        label=_("Breath alcohol (‰)"), required=False, decimal_places=2, min_value=0, max_value=5
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    field_order = [
        "status",
        "dose_mg",
        "time",
        "given_by",
        "sedation",
        "breath_alcohol_permille",
        "note",
        "confirm_breach",
        "breach_reason",
    ]

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        from hab.core import policy
        from hab.core.models import User
        from hab.core.policy import Action

        people = (
            User.objects.filter(memberships__clinic=clinic, is_active=True)
            .distinct()
            .order_by("first_name", "last_name")
        )
        self.fields["given_by"].choices = [("", "–")] + [
            (p.username, p.get_full_name() or p.username)
            for p in people
            if policy.can(p, Action.DOSE, clinic)
        ]


GROUPS = [
    ("dam", _("Diacetylmorphine (injections and tablets)")),
    ("hydromorphone", _("Hydromorphone")),
    ("methadone", _("Methadone")),
    ("morphine", _("Slow-release morphine")),
]


class DoseReviewForm(forms.Form):
    """A doctor's review after missed days or a confirmed breach."""

    group = forms.ChoiceField(label=_("Medication"), choices=GROUPS)
    note = forms.CharField(
        label=_("Assessment and plan"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The next dose follows the protocol's restart limits."),
    )


class DoseHoldForm(forms.Form):
    """Stopping a patient's dosing until a doctor lifts it."""

    reason = forms.CharField(
        label=_("Why is dosing stopped?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the dosing board and the record until a doctor lifts the stop."),
    )


class DoseHoldLiftForm(forms.Form):
    """A doctor's lifting of a stop-dose hold."""

    note = forms.CharField(
        label=_("Assessment: why dosing may go on"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
