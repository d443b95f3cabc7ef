"""The interview form, generated from an instrument's items. Every answer is checked by
the service (one set of rules for the page and the API); the fields only collect text."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from hab.research import instruments
from hab.research.models import Instrument, Item, ItemType


class _Collect:
    """A field that only turns the input into text: required, ranges and option codes are
    checked by the service, so the page and the API say the same thing."""

    def validate(self, value) -> None:
        return None


class AnswerText(_Collect, forms.CharField):
    pass


class AnswerChoice(_Collect, forms.ChoiceField):
    pass


class AnswerDate(_Collect, forms.DateField):
    pass


def _field(item: Item) -> forms.Field:
    label = instruments.text(item, "text")
    if item.type == ItemType.INTEGER:
        attrs = {"inputmode": "numeric", "class": "num"}
        if item.min_value is not None:
            attrs["min"] = item.min_value
        if item.max_value is not None:
            attrs["max"] = item.max_value
        return AnswerText(
            label=label,
            # Text, not type=number: a browser's number input turns "1,5" into 15.
            widget=forms.TextInput(attrs=attrs),
            help_text=_("%(low)s to %(high)s") % {"low": item.min_value, "high": item.max_value}
            if item.min_value is not None and item.max_value is not None
            else "",
        )
    if item.type == ItemType.YES_NO:
        return AnswerChoice(
            label=label, choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect
        )
    if item.type == ItemType.CHOICE:
        return AnswerChoice(
            label=label,
            choices=[(str(o.code), instruments.text(o, "label")) for o in item.options.all()],
            widget=forms.RadioSelect,
        )
    if item.type == ItemType.DATE:
        return AnswerText(label=label, widget=forms.DateInput(attrs={"type": "date"}))
    return AnswerText(
        label=label,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": instruments.TEXT_MAX}),
    )


class InterviewForm(forms.Form):
    # The browser's own checks are off: the errors come from HAB, beside each question.
    use_required_attribute = False

    answered_on = AnswerDate(
        label=_("Date of the interview"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, instrument: Instrument, correcting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items.all():
            field = _field(item)
            field.required = item.required  # shown with an asterisk; checked by the service
            self.fields[item.code] = field
        if correcting:
            self.fields["correction_reason"] = AnswerText(
                label=_("Why the answers are corrected"),
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields["correction_reason"].required = True

    def answers(self) -> dict:
        return {item.code: self.cleaned_data.get(item.code) for item in self.instrument.items.all()}

    @staticmethod
    def initial_from(instrument: Instrument, response) -> dict:
        """A response's answers as the form's initial values (to correct them)."""
        stored = {a.item_id: a for a in response.answers.all()}
        initial: dict = {"answered_on": response.answered_on}
        for item in instrument.items.all():
            value = instruments.answer_value(item, stored.get(item.pk))
            if value is None:
                continue
            if item.type == ItemType.YES_NO:
                value = "yes" if value else "no"
            elif item.type == ItemType.DATE:
                value = value.isoformat()
            initial[item.code] = str(value)
        return initial

    def field_for(self, name: str) -> str:
        return name.removeprefix("answers.")
