"""The evaluation in the API: every indicator for a clinic or the programme and a period."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from hab.evaluation import selectors

router = Router(tags=["evaluation"])


class IndicatorQuery(Schema):
    clinic: str = Field("", description="clinic code; empty for the programme")
    from_: str = Field("", alias="from", description="first day, YYYY-MM-DD (1 January)")
    to: str = Field("", description="last day, YYYY-MM-DD (today; a later day is cut to today)")
    outcomes: Literal["all", "consented"] = Field(
        "all",
        description="the follow-up outcomes of all patients, or only of those whose research "
        "consent is in force",
    )


@router.get(
    "/evaluation/indicators",
    summary="Indicators for a clinic (or the programme: every clinic one may see) and period",
)
def indicator_values(request: HttpRequest, query: Query[IndicatorQuery]) -> dict:
    clinics, programme = selectors.scope(request.user, query.clinic)
    period = selectors.period(query.from_, query.to)
    threshold = selectors.small_number_threshold(request.user, clinics)
    data, withheld = selectors.indicator_values(
        clinics,
        period,
        programme=programme,
        threshold=threshold,
        consented_only=query.outcomes == "consented",
    )
    # A withheld value is null; "suppressed" names it and says why (docs/api.md).
    return data | {"suppression_threshold": threshold, "suppressed": withheld}
