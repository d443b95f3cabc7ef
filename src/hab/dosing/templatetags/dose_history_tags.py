"""The patient's last weeks of dosing as a card for pages outside the app: the patient's
record and the prescription form (the seam by which a higher app shows on the patient's
page, as the care plan's link does)."""

from __future__ import annotations

from django import template

from hab.core.web import web_actor
from hab.dosing import charts, history
from hab.patients.models import Patient

register = template.Library()


@register.inclusion_tag("dosing/_history.html", takes_context=True)
def dose_history_card(context, patient: Patient, logged: bool = False) -> dict:
    """Nothing for a role that may not read it. ``logged``: the page has written its own
    access-log row for this reading of the record (the record page), so none is added."""
    request = context.get("request")
    if request is None or not history.may_read(request.user, patient):
        return {"shown": False}
    found = history.dose_history_for(web_actor(request), patient, log=not logged)
    return {
        "shown": True,
        "days": len(found.days),
        "slots": [name for _code, name in found.slots],
        "charts": [
            {
                "group": group,
                "src": charts.data_uri(found, group),
                "title": charts.title(found, group),
                "alt": charts.summary(found, group),
                "rows": charts.table(found, group),
            }
            for group in found.groups
        ],
    }
