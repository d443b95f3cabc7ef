"""Staffing shortfalls in plain words, in the user's language ("Mangler 1 sykepleier")."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hab.operations.rules import Need, Shortfall


def text(shortfall: Shortfall) -> str:
    n = shortfall.missing
    if shortfall.need == Need.NURSES:
        return ngettext("Missing %(n)s nurse", "Missing %(n)s nurses", n) % {"n": n}
    if shortfall.present == 0 and shortfall.required == 1:
        if shortfall.on_call_counts:
            return _("No doctor on duty or on call")
        return _("No doctor on duty")
    if shortfall.on_call_counts:
        return ngettext(
            "Missing %(n)s doctor on duty or on call",
            "Missing %(n)s doctors on duty or on call",
            n,
        ) % {"n": n}
    return ngettext("Missing %(n)s doctor on duty", "Missing %(n)s doctors on duty", n) % {"n": n}


def texts(shortfalls: list[Shortfall]) -> list[str]:
    return [text(s) for s in shortfalls]
