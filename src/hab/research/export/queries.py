"""The rows of the export's tables, read in chunks in the order they are written; and the
doses a day's total counts, for the tables and the FHIR Bundle alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from hab.core import clock
from hab.core.sql import not_corrected
from hab.dosing.models import Administration
from hab.dosing.rules import TAKEN
from hab.dosing.selectors import TAKEN_SQL
from hab.incidents.models import Incident
from hab.intake.models import Episode
from hab.patients.models import Patient
from hab.prescribing.models import ATC
from hab.prescribing.rules import MEDICATION_GROUP
from hab.research.models import Answer, FollowUp, Item, ItemType, Missed, Response
from hab.research.rules import TIMEPOINTS

from .scope import CHUNK, Scope

MONTHS = dict(TIMEPOINTS)

# A day's total, for doses_daily and the FHIR Bundle alike: the current records (corrections
# applied) of the doses given in full or in part. (PostgreSQL's COPY of doses_daily spells
# the same in SQL; a test holds the two equal.)
GIVEN = Q(status__in=TAKEN)


def current_doses(scope: Scope) -> QuerySet[Administration]:
    return not_corrected(Administration.objects.filter(patient_id__in=scope.ids))


def given_doses(among: Q | None = None) -> Count:
    return Count("pk", filter=GIVEN if among is None else GIVEN & among)


def given_mg(among: Q | None = None) -> Sum:
    return Sum("dose_mg", filter=GIVEN if among is None else GIVEN & among, default=0)


def mg(total) -> float:
    """A day's total as exported: mg to one decimal."""
    return round(float(total), 1)


def group_atc() -> dict[str, str]:
    """The ATC code of each dose group (one substance per group), from prescribing's table
    of ATC codes per medication: the one place the exports read it."""
    return {str(MEDICATION_GROUP[medication]): code for medication, code in ATC.items()}


def chunks(rows: Iterable[tuple], size: int = 50_000) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- patients, episodes, doses, incidents -------------------------------------------------


def episode_records(scope: Scope, *fields: str) -> Iterator[tuple]:
    """The scope's episodes, a patient's in the order they began; more ``fields`` after
    the five every reader wants."""
    return (
        Episode.objects.filter(patient_id__in=scope.ids)
        .order_by("patient_id", "admitted_on", "pk")
        .values_list("patient_id", "clinic_id", "admitted_on", "ended_on", "end_reason", *fields)
        .iterator(chunk_size=CHUNK)
    )


def _age(born, on) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def patient_rows(
    scope: Scope, clinic_code: dict[int, int], end_codes: dict[str, int]
) -> Iterator[tuple]:
    """One row per consenting patient with an episode: first clinic, age at first
    admission, episodes, and how the last one ended."""
    episodes: dict[int, list] = {}
    for row in episode_records(scope):
        episodes.setdefault(row[0], []).append(row)
    born = dict(Patient.objects.filter(pk__in=scope.ids).values_list("pk", "birth_date"))
    today = clock.today()
    for patient_id, research_id in scope.patients.items():
        course = episodes.get(patient_id, [])
        if not course:
            continue
        first, last = course[0], course[-1]
        start = first[2]
        end = last[3]
        row = (
            research_id,
            clinic_code[first[1]],
            _age(born[patient_id], start),
            len(course),
            0 if end is None else 1,
            end_codes.get(last[4]) if end else None,
            ((end or today) - start).days,
        )
        yield row + ((start,) if scope.with_dates else ())


def episode_rows(
    scope: Scope, clinic_code: dict[int, int], end_codes: dict[str, int]
) -> Iterator[tuple]:
    counter: dict[int, int] = {}
    for patient_id, clinic_id, admitted, ended, reason in episode_records(scope):
        counter[patient_id] = counter.get(patient_id, 0) + 1
        row = (
            scope.patients[patient_id],
            counter[patient_id],
            clinic_code[clinic_id],
            scope.day(patient_id, admitted),
            scope.day(patient_id, ended),
            end_codes.get(reason) if ended else None,
        )
        yield row + ((admitted, ended) if scope.with_dates else ())


def dose_rows(scope: Scope) -> Iterator[tuple]:
    """Administrations per patient-day, summed by the database (tens of millions of records
    at national scale: Python sees one row per patient-day)."""
    dam = Q(group="dam")
    days = (
        current_doses(scope)
        .values("patient_id", "day")
        .annotate(
            dam_doses=given_doses(dam),
            dam_mg=given_mg(dam),
            other_mg=given_mg(~dam),
            withheld=Count("pk", filter=Q(status="withheld")),
            refused=Count("pk", filter=Q(status="refused")),
            missed=Count("pk", filter=Q(status="missed")),
        )
        .order_by("patient_id", "day")
        .values_list(
            "patient_id", "day", "dam_doses", "dam_mg", "other_mg", "withheld", "refused", "missed"
        )
    )
    for patient_id, day, dam_doses, dam_mg, other_mg, withheld, refused, missed in days.iterator(
        chunk_size=CHUNK
    ):
        row = (
            scope.patients[patient_id],
            (day - scope.day0[patient_id]).days,
            dam_doses,
            mg(dam_mg),
            mg(other_mg),
            withheld,
            refused,
            missed,
        )
        yield row + ((day,) if scope.with_dates else ())


def dose_copy(scope: Scope) -> tuple[str, list]:
    """The rows of ``dose_rows`` formatted by PostgreSQL: the same sums rounded to one
    decimal (a numeric of scale 1 prints as Python prints the rounded float), the research
    id and the day-0 joined from the scope. Python only moves the bytes."""
    records = current_doses(scope)
    # .order_by(): without it the records come sorted by the model's own ordering (time
    # given), a sort of every record that the grouping then throws away.
    inner, inner_params = (
        records.order_by().values("patient_id", "day", "status", "group", "dose_mg")
    ).query.sql_with_params()
    taken = f"a.status IN ({TAKEN_SQL})"
    dam = f"{taken} AND a.\"group\" = 'dam'"
    other = f"{taken} AND a.\"group\" <> 'dam'"
    # Summed per patient-day first, in the order of the covering index admin_patient_day,
    # then joined to the scope's ids in the same order: the rows stream out as they are
    # read, with no sort of the whole table in between.
    sql = (
        "COPY (SELECT s.research_id, d.day - s.day0, d.dam_doses, d.dam_mg, d.other_mg, "
        "d.withheld, d.refused, d.missed"
        + (", to_char(d.day, 'YYYY-MM-DD')" if scope.with_dates else "")
        + " FROM (SELECT a.patient_id, a.day, "
        f"COUNT(*) FILTER (WHERE {dam}) AS dam_doses, "
        f"ROUND(COALESCE(SUM(a.dose_mg) FILTER (WHERE {dam}), 0), 1) AS dam_mg, "
        f"ROUND(COALESCE(SUM(a.dose_mg) FILTER (WHERE {other}), 0), 1) AS other_mg, "
        "COUNT(*) FILTER (WHERE a.status = 'withheld') AS withheld, "
        "COUNT(*) FILTER (WHERE a.status = 'refused') AS refused, "
        "COUNT(*) FILTER (WHERE a.status = 'missed') AS missed "
        f"FROM ({inner}) a GROUP BY a.patient_id, a.day) d "
        "JOIN unnest(%s::bigint[], %s::text[], %s::date[]) "
        "AS s (patient_id, research_id, day0) ON s.patient_id = d.patient_id "
        "ORDER BY d.patient_id, d.day) TO STDOUT (FORMAT csv)"
    )
    ids = scope.ids
    return sql, [
        *inner_params,
        ids,
        [scope.patients[i] for i in ids],
        [scope.day0[i] for i in ids],
    ]


def incident_rows(
    scope: Scope, kind_codes: dict[str, int], severity_codes: dict[str, int]
) -> Iterator[tuple]:
    for patient_id, at, kind, severity, naloxone, ambulance, hospital in (
        Incident.objects.filter(patient_id__in=scope.ids)
        .order_by("patient_id", "occurred_at")
        .values_list(
            "patient_id", "occurred_at", "kind", "severity", "naloxone_mg", "ambulance", "hospital"
        )
        .iterator(chunk_size=CHUNK)
    ):
        day = timezone.localdate(at)
        row = (
            scope.patients[patient_id],
            scope.day(patient_id, day),
            kind_codes[kind],
            severity_codes[severity],
            None if naloxone is None else float(naloxone),
            int(ambulance),
            int(hospital),
        )
        yield row + ((day,) if scope.with_dates else ())


# --- follow-ups ------------------------------------------------------------------------------


def current_responses(scope: Scope) -> QuerySet[Response]:
    return not_corrected(Response.objects.filter(follow_up__patient_id__in=scope.ids))


def export_items(scope: Scope) -> list[Item]:
    """The active instruments' items, free-text ones only when asked for (no column, no row,
    no answer read otherwise)."""
    active = Item.objects.filter(instrument__active=True)
    if not scope.free_text:
        active = active.exclude(type=ItemType.TEXT)
    return list(
        active.select_related("instrument")
        .prefetch_related("options")
        .order_by("instrument__code", "order")
    )


def follow_up_rows(scope: Scope) -> Iterator[tuple]:
    answered = dict(current_responses(scope).values_list("follow_up_id", "answered_on"))
    missed = set(Missed.objects.values_list("follow_up_id", flat=True))
    for pk, patient_id, timepoint, due in (
        FollowUp.objects.filter(patient_id__in=scope.ids)
        .order_by("patient_id", "due_on")
        .values_list("pk", "patient_id", "timepoint", "due_on")
        .iterator(chunk_size=CHUNK)
    ):
        interview = answered.get(pk)
        state = 1 if interview else 2 if pk in missed else 3
        row = (
            scope.patients[patient_id],
            MONTHS[timepoint],
            scope.day(patient_id, due),
            state,
            scope.day(patient_id, interview),
        )
        yield row + ((due, interview) if scope.with_dates else ())


def answers(scope: Scope, items: list[Item]) -> Iterator[tuple]:
    """The current responses' answers to ``items``, by response and item, each with its
    patient, time point and interview day."""
    responses = {
        pk: (patient_id, timepoint, answered)
        for pk, patient_id, timepoint, answered in current_responses(scope)
        .values_list("pk", "follow_up__patient_id", "follow_up__timepoint", "answered_on")
        .iterator(chunk_size=CHUNK)
    }
    for response_id, item_id, value_int, value_date, value_text in (
        Answer.objects.filter(
            response_id__in=list(responses), item_id__in=[item.pk for item in items]
        )
        .order_by("response_id", "item_id")
        .values_list("response_id", "item_id", "value_int", "value_date", "value_text")
        .iterator(chunk_size=CHUNK)
    ):
        patient_id, timepoint, answered = responses[response_id]
        yield (patient_id, timepoint, answered, item_id, value_int, value_date, value_text)


def long_rows(scope: Scope, items: list[Item]) -> Iterator[tuple]:
    """One row per answer: a number (a date as a study day without calendar dates) and
    the text (a date's ISO form with them)."""
    by_id = {item.pk: item for item in items}
    for patient_id, timepoint, answered, item_id, value_int, value_date, text in answers(
        scope, items
    ):
        item = by_id.get(item_id)
        if item is None:
            continue
        if item.type == ItemType.DATE:
            value = scope.day(patient_id, value_date) if not scope.with_dates else None
        else:
            value = value_int
        if scope.with_dates and value_date is not None:
            text = value_date.isoformat()
        yield (
            scope.patients[patient_id],
            MONTHS[timepoint],
            scope.day(patient_id, answered),
            item.instrument.code,
            item.instrument.version,
            item.code,
            value,
            text,
        )


def wide_rows(scope: Scope, items: list[Item]) -> Iterator[tuple]:
    """One row per interview, a column per item in the order of ``items``."""
    position = {item.pk: index for index, item in enumerate(items)}
    key = None
    values: list = []
    for patient_id, timepoint, answered, item_id, value_int, value_date, text in answers(
        scope, items
    ):
        if (patient_id, timepoint) != key:
            if key is not None:
                yield tuple(values)
            key = (patient_id, timepoint)
            values = [
                scope.patients[patient_id],
                MONTHS[timepoint],
                scope.day(patient_id, answered),
            ]
            values += [None] * len(items)
        index = position.get(item_id)
        if index is None:
            continue
        item = items[index]
        if item.type == ItemType.TEXT:
            values[3 + index] = text
        elif item.type == ItemType.DATE:
            values[3 + index] = (
                value_date.isoformat()
                if scope.with_dates and value_date
                else scope.day(patient_id, value_date)
            )
        else:
            values[3 + index] = value_int
    if key is not None:
        yield tuple(values)
