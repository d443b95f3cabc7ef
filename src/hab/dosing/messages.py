"""The dose decision's reasons in plain words, in the user's language."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hab.core.formats import number
from hab.dosing.models import Status
from hab.dosing.rules import Reason


def duration(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


def mg(value) -> str:
    """7,5 mg in bokmål, 7.5 mg in English."""
    return f"{number(value)} mg"


def status_label(code: str) -> str:
    """A record's status in words ("gitt"), not its stored code ("given")."""
    return str(Status(code).label).lower() if code in Status.values else code


def text(reason: Reason) -> str:
    p = reason.params
    code = reason.code
    if code == "no_episode":
        return _("The patient is not in treatment at HAB.")
    if code == "no_prescription":
        return _("No valid prescription. A doctor must prescribe first.")
    if code == "no_protocol":
        return _("The clinic has no complete dosing protocol. Ask the clinic lead.")
    if code == "no_dose_this_slot":
        return _("No dose is prescribed for this session.")
    if code == "already_recorded":
        return _(
            "Already recorded in this session (%(status)s). Use a correction to change it."
        ) % {"status": status_label(p["status"])}
    if code == "hold":
        return _("Dosing stopped: %(reason)s – only a doctor can lift the stop.") % {
            "reason": p["reason"]
        }
    if code == "interval":
        return _("Last dose %(elapsed)s ago; the minimum interval is %(required)s.") % {
            "elapsed": duration(p["elapsed_minutes"]),
            "required": duration(p["required_minutes"]),
        }
    if code == "daily_max_reached":
        return _("The daily maximum of %(max)s is reached.") % {"max": mg(p["daily_max"])}
    if code == "daily_max":
        return _("Only %(left)s left of the daily maximum of %(max)s.") % {
            "left": mg(p["left"]),
            "max": mg(p["daily_max"]),
        }
    if code == "single_max":
        return _("The clinic's single-dose maximum is %(max)s.") % {"max": mg(p["max"])}
    if code == "missed_days":
        return ngettext(
            "No dose for %(days)s day: a doctor must review and set the dose.",
            "No dose for %(days)s days: a doctor must review and set the dose.",
            p["days"],
        ) % {"days": p["days"]}
    if code == "restart_after_review":
        return _("Restart after %(days)s days without a dose: first-day limits apply.") % {
            "days": p["days"]
        }
    if code == "missed_reduce":
        return _("No dose for %(days)s days: reduce by %(pct)s %%.") % {
            "days": p["days"],
            "pct": p["pct"],
        }
    if code == "titration_step":
        return _("Titration plan: at most %(max)s now.") % {"max": mg(p["max"])}
    if code == "first_day_iv":
        return _("First day of injections: at most %(max)s per dose.") % {"max": mg(p["max"])}
    if code == "prev_day_share":
        return _("Titration: at most %(max)s (half of yesterday's total).") % {"max": mg(p["max"])}
    if code == "step_from_previous":
        return _("Titration: at most %(max)s (previous dose + 50 %%).") % {"max": mg(p["max"])}
    if code == "first_oral":
        return _("First tablet dose: at most %(max)s.") % {"max": mg(p["max"])}
    if code == "oral_daily_step":
        return _("Tablet titration: at most %(max)s more today.") % {"max": mg(p["max"])}
    if code == "sedation_block":
        return _("Sedation POSS %(level)s: do not dose. Check breathing; call for help.") % {
            "level": p["level"]
        }
    if code == "sedation_reduce":
        return _("Sedation POSS %(level)s: reduce by %(pct)s %% and watch breathing.") % {
            "level": p["level"],
            "pct": p["pct"],
        }
    if code == "alcohol":
        return _("Breath alcohol %(value)s ‰ is above the limit of %(max)s ‰.") % {
            "value": number(p["value"]),
            "max": number(p["max"]),
        }
    if code == "respiration":
        return _("Respiratory rate %(value)s/min is below %(min)s/min.") % {
            "value": p["value"],
            "min": p["min"],
        }
    if code == "iv_over_warn":
        return _(
            "%(injected)s injected today: this dose of %(dose)s takes the day over %(warn)s."
        ) % {"injected": mg(p["injected"]), "dose": mg(p["dose"]), "warn": mg(p["warn"])}
    if code == "breach_review":
        return _(
            "A dose over the limits was recorded after the fact: a doctor must review "
            "before the next dose."
        )
    if code == "prev_day_none":
        return _(
            "Titration with three sessions: nothing was given yesterday, so there is no "
            "dose to go by. A doctor must set the dose."
        )
    if code == "top_up":
        return _("Top-up after the first injection: at most %(max)s.") % {"max": mg(p["max"])}
    if code == "top_up_not_allowed":
        return _("A top-up is only given right after the first injection on the first day, once.")
    if code == "intoxication_block":
        return _("Obviously intoxicated with other substances: do not dose.")
    if code == "intoxication_reduce":
        return _("Suspected intoxication with other substances: reduce by %(pct)s %%.") % {
            "pct": p["pct"]
        }
    if code == "oral_daily_step_reached":
        return _("Tablet titration: today's total of %(max)s is reached.") % {"max": mg(p["max"])}
    if code == "oral_restart":
        return _("Restart after missed days: at most %(max)s today.") % {"max": mg(p["max"])}
    breach = _breach_text(reason)
    if breach is not None:
        return breach
    return code


def clock_time(value) -> str:
    """A time of day in Oslo, as the nurse reads it on the paper list."""
    return timezone.localtime(value).strftime("%H:%M")


def _titration_rule(rule: str) -> str:
    return {
        "titration_step": _("the titration plan"),
        "first_day_iv": _("first day of injections"),
        "prev_day_share": _("half of the day before's total"),
        "step_from_previous": _("previous dose plus half"),
        "first_oral": _("first tablet dose"),
        "top_up": _("top-up after the first injection"),
    }.get(rule, rule)


def _breach_text(reason: Reason) -> str | None:
    """A limit a day's records break, found after the fact (``rules.day_breaches``)."""
    p = reason.params
    code = reason.code
    if code == "breach_interval":
        return _(
            "The doses at %(earlier)s and %(later)s were %(elapsed)s apart; "
            "the minimum interval is %(required)s."
        ) % {
            "earlier": clock_time(p["earlier"]),
            "later": clock_time(p["later"]),
            "elapsed": duration(p["elapsed_minutes"]),
            "required": duration(p["required_minutes"]),
        }
    if code == "breach_daily_max":
        return _("The day's total, %(total)s, is over the daily maximum of %(max)s.") % {
            "total": mg(p["total"]),
            "max": mg(p["daily_max"]),
        }
    if code == "breach_single_max":
        return _("The dose at %(time)s, %(mg)s, is over the single-dose maximum of %(max)s.") % {
            "time": clock_time(p["at"]),
            "mg": mg(p["mg"]),
            "max": mg(p["max"]),
        }
    if code == "breach_prescribed":
        return _(
            "The dose at %(time)s, %(mg)s, is more than the %(max)s prescribed for the session."
        ) % {"time": clock_time(p["at"]), "mg": mg(p["mg"]), "max": mg(p["max"])}
    if code == "breach_titration" and p.get("rule") == "oral_daily_step":
        return _("Tablet titration: the day's total, %(total)s, is over %(max)s.") % {
            "total": mg(p["total"]),
            "max": mg(p["max"]),
        }
    if code == "breach_titration":
        return _(
            "The dose at %(time)s, %(mg)s, is over the titration limit of %(max)s (%(rule)s)."
        ) % {
            "time": clock_time(p["at"]),
            "mg": mg(p["mg"]),
            "max": mg(p["max"]),
            "rule": _titration_rule(p["rule"]),
        }
    if code == "breach_allowed":
        return _("%(mg)s is more than the %(max)s the rules allowed at that time.") % {
            "mg": mg(p["mg"]),
            "max": mg(p["max"]),
        }
    return None


def texts(reasons) -> list[str]:
    return [text(reason) for reason in reasons]
