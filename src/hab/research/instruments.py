"""Instruments as data: reading the active ones, their texts in the user's language, and
checking answers against each item's type, range, options and whether it is required."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from hab.core.formats import number as number_text
from hab.research.models import Instrument, Item, ItemType, Option

CORE = "hab_core"
TEXT_MAX = 2000
_INTEGER = re.compile(r"-?\d{1,9}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
YES = ("yes", "ja", "true", "1")
NO = ("no", "nei", "false", "0")


def english() -> bool:
    return (get_language() or "nb").startswith("en")


def text(obj, name: str) -> str:
    """The bokmål text, or the English one when the user reads English."""
    return getattr(obj, f"{name}_en" if english() else f"{name}_nb")


def _with_items(instruments: QuerySet[Instrument]) -> QuerySet[Instrument]:
    items = Item.objects.order_by("order").prefetch_related(
        Prefetch("options", queryset=Option.objects.order_by("code"))
    )
    return instruments.prefetch_related(Prefetch("items", queryset=items))


def active_instruments() -> list[Instrument]:
    """The newest active version of each instrument, with its items and options."""
    newest: dict[str, Instrument] = {}
    for instrument in _with_items(Instrument.objects.filter(active=True)):
        if instrument.code not in newest or instrument.version > newest[instrument.code].version:
            newest[instrument.code] = instrument
    return list(newest.values())


def instrument_by_code(code: str) -> Instrument | None:
    """The newest active version of the instrument with this code."""
    return (
        _with_items(Instrument.objects.filter(code=code, active=True)).order_by("-version").first()
    )


def instrument_by_id(instrument_id: int) -> Instrument | None:
    return _with_items(Instrument.objects.filter(pk=instrument_id)).first()


@dataclass
class Checked:
    """Answers turned into typed values, or the problems per item code."""

    values: dict[str, int | datetime.date | str | None] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def check_value(item: Item, value) -> tuple[int | datetime.date | str | None, str]:
    """The typed value of one answer and an error message ('' when it is valid)."""
    if _blank(value):
        return None, (_("Required.") if item.required else "")
    if item.type == ItemType.INTEGER:
        number = _integer(value)
        low, high = item.min_value, item.max_value
        if number is None:
            return None, _("A whole number.")
        if (low is not None and number < low) or (high is not None and number > high):
            return None, _("A whole number from %(low)s to %(high)s.") % {
                "low": low if low is not None else "…",
                "high": high if high is not None else "…",
            }
        return number, ""
    if item.type == ItemType.YES_NO:
        if isinstance(value, bool):
            return int(value), ""
        word = str(value).strip().lower()
        if word in YES:
            return 1, ""
        if word in NO:
            return 0, ""
        return None, _("Answer yes or no.")
    if item.type == ItemType.CHOICE:
        code = _integer(value)
        if code is None or code not in {option.code for option in item.options.all()}:
            return None, _("Choose one of the options.")
        return code, ""
    if item.type == ItemType.DATE:
        if isinstance(value, datetime.datetime):
            return None, _("A date as YYYY-MM-DD.")
        if isinstance(value, datetime.date):
            return value, ""
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            try:
                return datetime.date.fromisoformat(value.strip()), ""
            except ValueError:
                pass
        return None, _("A date as YYYY-MM-DD.")
    if not isinstance(value, str):
        return None, _("Text.")
    if len(value) > TEXT_MAX:
        return None, _("At most %(n)s characters.") % {"n": number_text(TEXT_MAX)}
    return value.strip(), ""


def check_answers(instrument: Instrument, answers: dict) -> Checked:
    """Every item checked; unknown item codes are errors too. Fields are named
    ``answers.<item code>``, as the API reports them."""
    checked = Checked()
    items = list(instrument.items.all())
    known = {item.code for item in items}
    if not isinstance(answers, dict):
        checked.errors.append(("answers", _("The answers, by item code.")))
        return checked
    for code in answers:
        if code not in known:
            checked.errors.append((f"answers.{code}", _("Not a question of this instrument.")))
    for item in items:
        value, error = check_value(item, answers.get(item.code))
        if error:
            checked.errors.append((f"answers.{item.code}", error))
        else:
            checked.values[item.code] = value
    return checked


def answer_value(item: Item, answer) -> int | datetime.date | str | None:
    """The stored answer as the value it was given."""
    if answer is None:
        return None
    if item.type == ItemType.DATE:
        return answer.value_date
    if item.type == ItemType.TEXT:
        return answer.value_text or None
    return answer.value_int


def answer_label(item: Item, value) -> str:
    """An answer as the page shows it: yes/no, the option's label, or the value."""
    if value is None or value == "":
        return "–"
    if item.type == ItemType.YES_NO:
        return _("Yes") if value else _("No")
    if item.type == ItemType.CHOICE:
        for option in item.options.all():
            if option.code == value:
                return text(option, "label")
    if isinstance(value, datetime.date):
        return value.strftime("%d.%m.%Y")
    return str(value)
