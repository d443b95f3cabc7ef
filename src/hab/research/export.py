"""Pseudonymised research exports: one zip with a table per entity, a codebook and a
README, as CSV, Parquet, Stata or SPSS; or a FHIR Bundle.

No direct identifiers leave HAB: the research id (an HMAC of the national id under
HAB_RESEARCH_KEY) replaces every id, names and national ids never appear, and dates become
days since the patient's first admission unless the exporter holds the
``research.export_dates`` permission. Only patients whose latest research consent is
"given" are exported; the README says how many were left out. Rows are read from the
database in chunks and written as they come (CSV, Parquet), so memory does not grow with
the data; Stata and SPSS files are written per table from a data frame (pyreadstat needs
one). Every export is logged with the file's SHA-256.

Free-text answers (a follow-up's comment) may hold names, national ids or anything else a
patient said: they are left out unless the researcher asks for them (``free_text``), which
the export log records and the README, the page and the API answer warn about. Every CSV
cell goes through hab.core.spreadsheet, so no text becomes a spreadsheet formula.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from hab.core import clock, policy, spreadsheet
from hab.core.errors import Invalid, NotFound
from hab.core.models import Clinic, User
from hab.core.policy import Action
from hab.core.sql import not_corrected

FORMATS = ("csv", "parquet", "dta", "sav", "fhir")
CHUNK = 5000
ROW_GROUP_BYTES = 4 << 20  # of CSV text: about 100,000 rows of doses_daily


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "int", "float", "str", "date"
    label_en: str
    label_nb: str
    codes: dict[int, tuple[str, str]] | None = None  # code: (en, nb)


@dataclass
class Table:
    name: str
    label_en: str
    label_nb: str
    columns: list[Column]
    rows: Callable[[], Iterator[tuple]]
    count: int = 0
    # PostgreSQL: the same rows as a ``COPY (...) TO STDOUT (FORMAT csv)`` statement and its
    # parameters, for a table of millions of rows that the database formats itself.
    copy: Callable[[], tuple[str, list]] | None = None


@dataclass
class Scope:
    clinic_ids: list[int]
    with_dates: bool
    free_text: bool = False  # free-text answers asked for explicitly
    patients: dict[int, str] = field(default_factory=dict)  # patient id: research id
    day0: dict[int, datetime.date] = field(default_factory=dict)  # first admission
    left_out: int = 0

    def day(self, patient_id: int, day: datetime.date | None) -> int | None:
        return None if day is None else (day - self.day0[patient_id]).days


@dataclass(frozen=True)
class Exported:
    path: Path
    filename: str
    content_type: str
    sha256: str
    rows: dict[str, int]
    left_out: int
    free_text: bool = False


FREE_TEXT_WARNING = (
    "Free-text answers are included: they may name the patient or others, or hold a "
    "national id. Keep the file as identifiable data."
)


def _coded(choices) -> dict[int, tuple[str, str]]:
    """Django choices as numbered codes with English and Norwegian labels."""
    from django.utils import translation

    codes = {}
    for number, (_value, label) in enumerate(choices, start=1):
        with translation.override("en"):
            en = str(label)
        with translation.override("nb"):
            nb = str(label)
        codes[number] = (en, nb)
    return codes


def _numbering(choices) -> dict[str, int]:
    return {value: number for number, (value, _label) in enumerate(choices, start=1)}


# --- scope ---------------------------------------------------------------------------------


def scope_for(
    user: User, clinic: str = "", *, with_dates: bool | None = None, free_text: bool = False
) -> Scope:
    """The clinics the researcher exports from, and the consenting patients in them."""
    from hab.intake.models import Episode
    from hab.patients.models import Consent, Patient

    clinic_ids = policy.clinic_ids_where(user, Action.RESEARCH_EXPORT)
    if clinic:
        chosen = Clinic.objects.filter(code=clinic, pk__in=clinic_ids).first()
        if chosen is None:
            raise NotFound("No such clinic.")
        clinic_ids = [chosen.pk]
    if not clinic_ids:
        raise NotFound("No such clinic.")
    dates = user.has_perm("research.export_dates") if with_dates is None else with_dates
    scope = Scope(clinic_ids=clinic_ids, with_dates=dates, free_text=free_text)
    latest = Consent.objects.filter(patient=OuterRef("pk"), kind="research").order_by("-at", "-id")
    in_scope = Patient.objects.filter(
        Exists(Episode.objects.filter(patient=OuterRef("pk"), clinic_id__in=clinic_ids))
    ).annotate(consent=Subquery(latest.values("given")[:1]))
    for patient_id, research_id, consent in in_scope.values_list(
        "pk", "research_id", "consent"
    ).iterator(chunk_size=CHUNK):
        if consent:
            scope.patients[patient_id] = research_id
        else:
            scope.left_out += 1
    first_admission: dict[int, datetime.date] = {}
    for patient_id, day in Episode.objects.filter(patient_id__in=list(scope.patients)).values_list(
        "patient_id", "admitted_on"
    ):
        if patient_id not in first_admission or day < first_admission[patient_id]:
            first_admission[patient_id] = day
    scope.day0 = first_admission
    return scope


# --- the tables ------------------------------------------------------------------------------


def _ids(scope: Scope) -> list[int]:
    return list(scope.patients)


# A day's total, for doses_daily and the FHIR Bundle alike: the current records (corrections
# applied) of the doses given in full or in part. (PostgreSQL's COPY of doses_daily spells
# the same in SQL; a test holds the two equal.)
GIVEN = Q(status__in=("given", "partial"))


def current_doses(scope: Scope):
    from hab.dosing.models import Administration

    return not_corrected(Administration.objects.filter(patient_id__in=_ids(scope)))


def given_doses(among: Q | None = None) -> Count:
    return Count("pk", filter=GIVEN if among is None else GIVEN & among)


def given_mg(among: Q | None = None) -> Sum:
    return Sum("dose_mg", filter=GIVEN if among is None else GIVEN & among, default=0)


def mg(total) -> float:
    """A day's total as exported: mg to one decimal."""
    return round(float(total), 1)


def tables(scope: Scope) -> list[Table]:
    from hab.incidents.models import Incident, Severity
    from hab.incidents.models import Kind as IncidentKind
    from hab.intake.models import EndReason, Episode

    clinics = list(Clinic.objects.order_by("pk").values_list("pk", "code", "name"))
    clinic_code = {pk: number for number, (pk, _c, _n) in enumerate(clinics, start=1)}
    clinic_labels = {number: (name, name) for number, (_pk, _c, name) in enumerate(clinics, 1)}
    end_codes = _numbering(EndReason.choices)
    kind_codes = _numbering(IncidentKind.choices)
    severity_codes = _numbering(Severity.choices)
    rid = scope.patients
    dated = scope.with_dates

    def date_columns(*names: str) -> list[Column]:
        if not dated:
            return []
        return [Column(f"{n}_date", "date", f"{n} (calendar date)", f"{n} (dato)") for n in names]

    # patients
    def patient_rows() -> Iterator[tuple]:
        from hab.patients.models import Patient

        episodes: dict[int, list] = {}
        for row in (
            Episode.objects.filter(patient_id__in=_ids(scope))
            .order_by("patient_id", "admitted_on", "pk")
            .values_list("patient_id", "clinic_id", "admitted_on", "ended_on", "end_reason")
            .iterator(chunk_size=CHUNK)
        ):
            episodes.setdefault(row[0], []).append(row)
        born = dict(Patient.objects.filter(pk__in=_ids(scope)).values_list("pk", "birth_date"))
        today = clock.today()
        for patient_id, research_id in rid.items():
            course = episodes.get(patient_id, [])
            if not course:
                continue
            first, last = course[0], course[-1]
            start = first[2]
            age = (
                start.year
                - born[patient_id].year
                - ((start.month, start.day) < (born[patient_id].month, born[patient_id].day))
            )
            end = last[3]
            row = (
                research_id,
                clinic_code[first[1]],
                age,
                len(course),
                0 if end is None else 1,
                end_codes.get(last[4]) if end else None,
                ((end or today) - start).days,
            )
            yield row + ((start,) if dated else ())

    patients = Table(
        "patients",
        "Patients (one row per patient with research consent)",
        "Pasienter (én rad per pasient med forskningssamtykke)",
        [
            Column("research_id", "str", "Research id (pseudonym)", "Forsknings-ID (pseudonym)"),
            Column("clinic", "int", "First HAB clinic", "Første HAB-klinikk", clinic_labels),
            Column("age_at_admission", "int", "Age at first admission", "Alder ved innskriving"),
            Column("episodes", "int", "Number of episodes", "Antall behandlingsforløp"),
            Column(
                "ended",
                "int",
                "Treatment ended",
                "Behandlingen avsluttet",
                {0: ("No, in treatment", "Nei, i behandling"), 1: ("Yes", "Ja")},
            ),
            Column(
                "end_reason",
                "int",
                "Reason the last episode ended",
                "Årsak til avslutning",
                _coded(EndReason.choices),
            ),
            Column(
                "days_in_programme",
                "int",
                "Days from first admission to end (or export)",
                "Dager fra innskriving til avslutning (eller uttrekk)",
            ),
            *date_columns("admitted"),
        ],
        patient_rows,
    )

    # episodes
    def episode_rows() -> Iterator[tuple]:
        counter: dict[int, int] = {}
        for patient_id, clinic_id, admitted, ended, reason in (
            Episode.objects.filter(patient_id__in=_ids(scope))
            .order_by("patient_id", "admitted_on", "pk")
            .values_list("patient_id", "clinic_id", "admitted_on", "ended_on", "end_reason")
            .iterator(chunk_size=CHUNK)
        ):
            counter[patient_id] = counter.get(patient_id, 0) + 1
            row = (
                rid[patient_id],
                counter[patient_id],
                clinic_code[clinic_id],
                scope.day(patient_id, admitted),
                scope.day(patient_id, ended),
                end_codes.get(reason) if ended else None,
            )
            yield row + ((admitted, ended) if dated else ())

    episodes = Table(
        "episodes",
        "Episodes of treatment",
        "Behandlingsforløp",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("episode", "int", "Episode number", "Forløpsnummer"),
            Column("clinic", "int", "HAB clinic", "HAB-klinikk", clinic_labels),
            Column("start_day", "int", "Admitted (study day)", "Innskrevet (studiedag)"),
            Column("end_day", "int", "Ended (study day)", "Avsluttet (studiedag)"),
            Column(
                "end_reason",
                "int",
                "Reason ended",
                "Årsak til avslutning",
                _coded(EndReason.choices),
            ),
            *date_columns("start", "end"),
        ],
        episode_rows,
    )

    # administrations per patient-day, summed by the database (tens of millions of records
    # at national scale: Python sees one row per patient-day)
    def dose_rows() -> Iterator[tuple]:
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
                "patient_id",
                "day",
                "dam_doses",
                "dam_mg",
                "other_mg",
                "withheld",
                "refused",
                "missed",
            )
        )
        for (
            patient_id,
            day,
            dam_doses,
            dam_mg,
            other_mg,
            withheld,
            refused,
            missed,
        ) in days.iterator(chunk_size=CHUNK):
            row = (
                rid[patient_id],
                (day - scope.day0[patient_id]).days,
                dam_doses,
                mg(dam_mg),
                mg(other_mg),
                withheld,
                refused,
                missed,
            )
            yield row + ((day,) if dated else ())

    def dose_copy() -> tuple[str, list]:
        """The rows of ``dose_rows`` formatted by PostgreSQL: the same sums rounded to one
        decimal (a numeric of scale 1 prints as Python prints the rounded float), the
        research id and the day-0 joined from the scope. Python only moves the bytes."""
        records = current_doses(scope)
        # .order_by(): without it the records come sorted by the model's own ordering
        # (time given), a sort of every record that the grouping then throws away.
        inner, inner_params = (
            records.order_by().values("patient_id", "day", "status", "group", "dose_mg")
        ).query.sql_with_params()
        dam = "a.status IN ('given', 'partial') AND a.\"group\" = 'dam'"
        other = "a.status IN ('given', 'partial') AND a.\"group\" <> 'dam'"
        # Summed per patient-day first, in the order of the covering index
        # admin_patient_day, then joined to the scope's ids in the same order: the rows
        # stream out as they are read, with no sort of the whole table in between.
        sql = (
            "COPY (SELECT s.research_id, d.day - s.day0, d.dam_doses, d.dam_mg, d.other_mg, "
            "d.withheld, d.refused, d.missed"
            + (", to_char(d.day, 'YYYY-MM-DD')" if dated else "")
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
        ids = _ids(scope)
        return sql, [*inner_params, ids, [rid[i] for i in ids], [scope.day0[i] for i in ids]]

    doses = Table(
        "doses_daily",
        "Supervised doses per patient and day (current records; corrections applied)",
        "Doser under tilsyn per pasient og dag (gjeldende registreringer)",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("day", "int", "Study day", "Studiedag"),
            Column("dam_doses", "int", "Diacetylmorphine doses given", "Diacetylmorfindoser gitt"),
            Column("dam_mg", "float", "Diacetylmorphine mg given", "Diacetylmorfin mg gitt"),
            Column("other_mg", "float", "Adjunct opioid mg given", "Tilleggsopioid mg gitt"),
            Column("withheld", "int", "Doses withheld", "Doser holdt tilbake"),
            Column("refused", "int", "Doses refused", "Doser avslått"),
            Column("missed", "int", "Doses missed", "Doser ikke hentet"),
            *date_columns("day"),
        ],
        dose_rows,
        # (no patient in scope: nothing to copy, and no query to build for an empty list)
        copy=dose_copy if connection.vendor == "postgresql" and _ids(scope) else None,
    )

    # incidents
    def incident_rows() -> Iterator[tuple]:
        for patient_id, at, kind, severity, naloxone, ambulance, hospital in (
            Incident.objects.filter(patient_id__in=_ids(scope))
            .order_by("patient_id", "occurred_at")
            .values_list(
                "patient_id",
                "occurred_at",
                "kind",
                "severity",
                "naloxone_mg",
                "ambulance",
                "hospital",
            )
            .iterator(chunk_size=CHUNK)
        ):
            day = timezone.localdate(at)
            row = (
                rid[patient_id],
                scope.day(patient_id, day),
                kind_codes[kind],
                severity_codes[severity],
                None if naloxone is None else float(naloxone),
                int(ambulance),
                int(hospital),
            )
            yield row + ((day,) if dated else ())

    yes_no = {0: ("No", "Nei"), 1: ("Yes", "Ja")}
    incidents = Table(
        "incidents",
        "Incidents concerning a patient",
        "Avvik som gjelder en pasient",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("day", "int", "Study day", "Studiedag"),
            Column("kind", "int", "Kind of incident", "Type avvik", _coded(IncidentKind.choices)),
            Column("severity", "int", "Severity", "Alvorlighet", _coded(Severity.choices)),
            Column("naloxone_mg", "float", "Naloxone given (mg)", "Nalokson gitt (mg)"),
            Column("ambulance", "int", "Ambulance called", "Ambulanse tilkalt", yes_no),
            Column("hospital", "int", "Taken to hospital", "Sendt til sykehus", yes_no),
            *date_columns("day"),
        ],
        incident_rows,
    )
    return [patients, episodes, doses, incidents, *follow_up_tables(scope)]


def follow_up_tables(scope: Scope) -> list[Table]:
    """Follow-up time points and responses, long and wide (current responses only)."""
    from hab.research.models import Answer, FollowUp, Item, ItemType, Missed, Response
    from hab.research.rules import TIMEPOINTS

    months = dict(TIMEPOINTS)
    rid = scope.patients
    dated = scope.with_dates
    current = not_corrected(Response.objects.filter(follow_up__patient_id__in=list(rid)))
    active = Item.objects.filter(instrument__active=True)
    if not scope.free_text:
        active = active.exclude(type=ItemType.TEXT)  # no column, no row, no answer read
    items = list(
        active.select_related("instrument")
        .prefetch_related("options")
        .order_by("instrument__code", "order")
    )
    item_type = {item.pk: item.type for item in items}

    def follow_up_rows() -> Iterator[tuple]:
        answered = dict(current.values_list("follow_up_id", "answered_on"))
        missed = set(Missed.objects.values_list("follow_up_id", flat=True))
        for pk, patient_id, timepoint, due in (
            FollowUp.objects.filter(patient_id__in=list(rid))
            .order_by("patient_id", "due_on")
            .values_list("pk", "patient_id", "timepoint", "due_on")
            .iterator(chunk_size=CHUNK)
        ):
            interview = answered.get(pk)
            state = 1 if interview else 2 if pk in missed else 3
            row = (
                rid[patient_id],
                months[timepoint],
                scope.day(patient_id, due),
                state,
                scope.day(patient_id, interview),
            )
            yield row + ((due, interview) if dated else ())

    follow_ups = Table(
        "follow_ups",
        "Follow-up time points",
        "Oppfølgingstidspunkter",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("month", "int", "Time point (months after admission)", "Tidspunkt (måneder)"),
            Column("due_day", "int", "Due (study day)", "Frist (studiedag)"),
            Column(
                "state",
                "int",
                "State",
                "Status",
                {
                    1: ("Interviewed", "Intervjuet"),
                    2: ("Missed", "Ikke gjennomført"),
                    3: ("Not yet due or open", "Ikke forfalt eller åpen"),
                },
            ),
            Column("interview_day", "int", "Interview (study day)", "Intervju (studiedag)"),
            *(
                [
                    Column("due_date", "date", "Due", "Frist"),
                    Column("interview_date", "date", "Interview", "Intervju"),
                ]
                if dated
                else []
            ),
        ],
        follow_up_rows,
    )

    def answers() -> Iterator[tuple]:
        responses = {
            pk: (patient_id, timepoint, answered)
            for pk, patient_id, timepoint, answered in current.values_list(
                "pk", "follow_up__patient_id", "follow_up__timepoint", "answered_on"
            ).iterator(chunk_size=CHUNK)
        }
        for response_id, item_id, value_int, value_date, value_text in (
            Answer.objects.filter(response_id__in=list(responses), item_id__in=list(item_type))
            .order_by("response_id", "item_id")
            .values_list("response_id", "item_id", "value_int", "value_date", "value_text")
            .iterator(chunk_size=CHUNK)
        ):
            patient_id, timepoint, answered = responses[response_id]
            yield (patient_id, timepoint, answered, item_id, value_int, value_date, value_text)

    by_id = {item.pk: item for item in items}

    def number(item_id, value_int, value_date, patient_id):
        if item_type.get(item_id) == ItemType.DATE:
            return scope.day(patient_id, value_date) if not dated else None
        return value_int

    def long_rows() -> Iterator[tuple]:
        for patient_id, timepoint, answered, item_id, value_int, value_date, text in answers():
            item = by_id.get(item_id)
            if item is None:
                continue
            value = number(item_id, value_int, value_date, patient_id)
            if dated and value_date is not None:
                text = value_date.isoformat()
            yield (
                rid[patient_id],
                months[timepoint],
                scope.day(patient_id, answered),
                item.instrument.code,
                item.instrument.version,
                item.code,
                value,
                text,
            )

    long = Table(
        "responses_long",
        "Follow-up answers, one row per item",
        "Oppfølgingssvar, én rad per spørsmål",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("month", "int", "Time point (months)", "Tidspunkt (måneder)"),
            Column("interview_day", "int", "Interview (study day)", "Intervju (studiedag)"),
            Column("instrument", "str", "Instrument", "Instrument"),
            Column("version", "int", "Instrument version", "Instrumentversjon"),
            Column("item", "str", "Item code (see the codebook)", "Spørsmålskode"),
            Column("value", "int", "Answer as a number or code", "Svar som tall eller kode"),
            Column("text", "str", "Answer as text", "Svar som tekst"),
        ],
        long_rows,
    )

    wide_items = list(items)
    position = {item.pk: index for index, item in enumerate(wide_items)}
    # One column per item; an item code used by two instruments gets the instrument's code.
    seen: dict[str, int] = {}
    for item in wide_items:
        seen[item.code] = seen.get(item.code, 0) + 1
    column_name = {
        item.pk: item.code if seen[item.code] == 1 else f"{item.instrument.code}__{item.code}"
        for item in wide_items
    }

    def wide_rows() -> Iterator[tuple]:
        key = None
        values: list = []
        for patient_id, timepoint, answered, item_id, value_int, value_date, text in answers():
            if (patient_id, timepoint) != key:
                if key is not None:
                    yield tuple(values)
                key = (patient_id, timepoint)
                values = [rid[patient_id], months[timepoint], scope.day(patient_id, answered)]
                values += [None] * len(wide_items)
            index = position.get(item_id)
            if index is None:
                continue
            item = wide_items[index]
            if item.type == ItemType.TEXT:
                values[3 + index] = text
            elif item.type == ItemType.DATE:
                values[3 + index] = (
                    value_date.isoformat()
                    if dated and value_date
                    else scope.day(patient_id, value_date)
                )
            else:
                values[3 + index] = value_int
        if key is not None:
            yield tuple(values)

    def item_column(item) -> Column:
        codes = None
        if item.type == ItemType.CHOICE:
            codes = {o.code: (o.label_en, o.label_nb) for o in item.options.all()}
        elif item.type == ItemType.YES_NO:
            codes = {0: ("No", "Nei"), 1: ("Yes", "Ja")}
        kind = (
            "str" if item.type == ItemType.TEXT or (item.type == ItemType.DATE and dated) else "int"
        )
        return Column(column_name[item.pk], kind, item.text_en, item.text_nb, codes)

    wide = Table(
        "responses_wide",
        "Follow-up answers, one row per interview",
        "Oppfølgingssvar, én rad per intervju",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("month", "int", "Time point (months)", "Tidspunkt (måneder)"),
            Column("interview_day", "int", "Interview (study day)", "Intervju (studiedag)"),
            *[item_column(item) for item in wide_items],
        ],
        wide_rows,
    )
    return [follow_ups, long, wide]


# --- writing ---------------------------------------------------------------------------------


def _codebook_rows(tables_: list[Table]) -> Iterator[tuple]:
    for table in tables_:
        for column in table.columns:
            codes = column.codes or {}
            yield (
                table.name,
                column.name,
                column.type,
                column.label_en,
                column.label_nb,
                "; ".join(f"{code}={en}" for code, (en, _nb) in codes.items()),
                "; ".join(f"{code}={nb}" for code, (_en, nb) in codes.items()),
            )


CODEBOOK_HEADER = ("table", "variable", "type", "label_en", "label_nb", "codes_en", "codes_nb")


def _copied(table: Table, block: int = 1 << 20) -> Iterator[bytes]:
    """The table's CSV lines as PostgreSQL's COPY sends them (one message a line), joined
    into blocks of about ``block`` bytes, ends of line as the csv module writes them (CRLF: no
    field of these tables holds a line break). Counts the lines into ``table.count``."""

    def joined(lines: list) -> bytes:
        table.count += len(lines)
        return b"".join(lines).replace(b"\n", b"\r\n")

    sql, params = table.copy()
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        lines: list = []
        size = 0
        for line in copy:
            lines.append(line)
            size += len(line)
            if size >= block:
                yield joined(lines)
                lines, size = [], 0
        if lines:
            yield joined(lines)


def _write_csv(zf: zipfile.ZipFile, table: Table) -> None:
    """The csv module writes None as an empty field and a date as its ISO form (str), so
    rows go to it as they come, a chunk at a time; a table PostgreSQL writes as CSV itself
    (``Table.copy``) goes into the file as the database sends it."""
    if table.copy is not None:
        with zf.open(f"{table.name}.csv", "w") as raw:
            # Only numbers and research ids (HAB's own base32) come from the database here:
            # no cell of it can start a formula.
            header = io.StringIO()
            spreadsheet.writer(header).writerow([c.name for c in table.columns])
            raw.write(header.getvalue().encode())
            for block in _copied(table):
                raw.write(block)
        return
    with (
        zf.open(f"{table.name}.csv", "w") as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
    ):
        writer = spreadsheet.writer(handle)
        writer.writerow([c.name for c in table.columns])
        for batch in _chunks(table.rows(), 10_000):
            writer.writerows(batch)
            table.count += len(batch)


def _chunks(rows: Iterable[tuple], size: int = 50_000) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _arrow_schema(table: Table):
    import pyarrow as pa

    kinds = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "date": pa.date32()}
    fields = []
    for column in table.columns:
        metadata = {"label_en": column.label_en, "label_nb": column.label_nb}
        if column.codes:
            metadata["codes"] = json.dumps({str(k): v for k, v in column.codes.items()})
        fields.append(pa.field(column.name, kinds[column.type], metadata=metadata))
    return pa.schema(fields)


def _write_parquet(zf: zipfile.ZipFile, table: Table) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(table)
    with (
        zf.open(f"{table.name}.parquet", "w") as raw,
        pq.ParquetWriter(pa.PythonFile(raw, mode="w"), schema) as writer,
    ):
        empty = True
        if table.copy is not None:
            # PostgreSQL's CSV read by Arrow's own reader, a block (a row group) at a time,
            # here: a reader pulling the lines itself would read them in another thread,
            # on another connection to the database.
            from pyarrow import csv as pa_csv

            read_options = pa_csv.ReadOptions(column_names=schema.names, use_threads=False)
            convert_options = pa_csv.ConvertOptions(column_types={f.name: f.type for f in schema})
            for block in _copied(table, ROW_GROUP_BYTES):
                read = pa_csv.read_csv(
                    io.BytesIO(block), read_options=read_options, convert_options=convert_options
                )
                writer.write_table(read.cast(schema))
                empty = False
        else:
            for batch in _chunks(table.rows()):
                columns = list(zip(*batch, strict=True))
                arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
                writer.write_batch(pa.record_batch(arrays, schema=schema))
                table.count += len(batch)
                empty = False
        if empty:
            writer.write_table(schema.empty_table())


def _frame(table: Table):
    import pandas as pd

    rows = list(table.rows())
    table.count = len(rows)
    frame = pd.DataFrame.from_records(rows, columns=[c.name for c in table.columns])
    for column in table.columns:
        if column.type == "date":
            frame[column.name] = pd.to_datetime(frame[column.name])
        elif column.type == "int":
            frame[column.name] = pd.to_numeric(frame[column.name]).astype("float64")
        elif column.type == "str":
            frame[column.name] = frame[column.name].fillna("").astype(str)
    return frame


def _write_stat(zf: zipfile.ZipFile, table: Table, fmt: str, work: Path) -> None:
    import pyreadstat

    frame = _frame(table)
    labels = {
        c.name: {float(code): en for code, (en, _nb) in c.codes.items()}
        for c in table.columns
        if c.codes
    }
    column_labels = [c.label_en[:80] for c in table.columns]
    path = work / f"{table.name}.{fmt}"
    if fmt == "dta":
        pyreadstat.write_dta(
            frame,
            str(path),
            column_labels=column_labels,
            variable_value_labels=labels,
            file_label=table.label_en[:80],
        )
    else:
        pyreadstat.write_sav(
            frame,
            str(path),
            column_labels=column_labels,
            variable_value_labels=labels,
            file_label=table.label_en[:64],
        )
    zf.write(path, path.name)
    path.unlink()


def _readme(scope: Scope, tables_: list[Table], fmt: str) -> str:
    lines = [
        "# HAB research export / forskningsuttrekk",
        "",
        f"Exported {timezone.localtime(clock.now()):%Y-%m-%d %H:%M} · format {fmt}",
        "",
        "## English",
        "",
        "Pseudonymised data from HAB (heroin-assisted treatment). `research_id` replaces every",
        "identifier; names and national ids are never exported. "
        + (
            "Calendar dates are included (the exporter holds the research_dates permission)."
            if scope.with_dates
            else "Dates are study days: days since the patient's first admission (day 0)."
        ),
        f"Patients with research consent: {len(scope.patients)}. Left out without (or after "
        f"withdrawing) research consent: {scope.left_out}.",
        (
            f"WARNING: {FREE_TEXT_WARNING}"
            if scope.free_text
            else "Free-text answers are left out (the exporter did not ask for them)."
        ),
        "Text cells that a spreadsheet would read as a formula (starting with =, +, -, @, "
        "a tab or a carriage return) begin with an apostrophe in the CSV files.",
        FHIR_DATES_EN,
        "Coded variables and their labels are in codebook.csv. Tables:",
        "",
        *[f"- {t.name}: {t.label_en} ({t.count} rows)" for t in tables_],
        "",
        "## Norsk",
        "",
        "Pseudonymiserte data fra HAB. `research_id` erstatter alle identifikatorer; navn og",
        "fødselsnummer eksporteres aldri. "
        + (
            "Datoer er med (brukeren har tillatelsen research_dates)."
            if scope.with_dates
            else "Datoer er studiedager: dager siden første innskriving (dag 0)."
        ),
        f"Pasienter med forskningssamtykke: {len(scope.patients)}. Utelatt uten (eller etter "
        f"tilbaketrukket) samtykke: {scope.left_out}.",
        (
            "ADVARSEL: Fritekstsvar er med: de kan navngi pasienten eller andre, eller "
            "inneholde fødselsnummer. Behandle filen som personidentifiserbare data."
            if scope.free_text
            else "Fritekstsvar er utelatt (brukeren ba ikke om dem)."
        ),
        "Tekstceller som et regneark ville lest som en formel (som begynner med =, +, -, @, "
        "tabulator eller vognretur) begynner med en apostrof i CSV-filene.",
        FHIR_DATES_NB,
        "Kodede variabler og etiketter står i codebook.csv. Tabeller:",
        "",
        *[f"- {t.name}: {t.label_nb} ({t.count} rader)" for t in tables_],
        "",
    ]
    return "\n".join(lines)


def write_zip(scope: Scope, fmt: str, target) -> dict[str, int]:
    tables_ = tables(scope)
    with (
        tempfile.TemporaryDirectory() as work,
        zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for table in tables_:
            if fmt == "csv":
                _write_csv(zf, table)
            elif fmt == "parquet":
                _write_parquet(zf, table)
            else:
                _write_stat(zf, table, fmt, Path(work))
        with (
            zf.open("codebook.csv", "w") as raw,
            io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle,
        ):
            writer = spreadsheet.writer(handle)
            writer.writerow(CODEBOOK_HEADER)
            writer.writerows(_codebook_rows(tables_))
        zf.writestr("README.md", _readme(scope, tables_, fmt))
    return {t.name: t.count for t in tables_}


# --- FHIR ------------------------------------------------------------------------------------

STUDY_DAY = "urn:hab:study-day"
SHIFTED_DAY0 = datetime.date(2000, 1, 1)
ATC_SYSTEM = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
DOSES_GIVEN = "urn:hab:doses-given"
FHIR_DATES_EN = (
    "In the FHIR Bundle (format fhir) every date is a whole day (no time of day) and carries "
    f"its study day exactly, as the extension {STUDY_DAY} (valueInteger) on the date itself. "
    "Without calendar dates, study day N is written as the date 2000-01-01 plus N days: a "
    "shifted calendar that keeps the intervals but no real date."
)
FHIR_DATES_NB = (
    "I FHIR-bundelen (format fhir) er hver dato en hel dag (uten klokkeslett) og har "
    f"studiedagen sin nøyaktig som utvidelsen {STUDY_DAY} (valueInteger) på selve datoen. "
    "Uten kalenderdatoer skrives studiedag N som datoen 2000-01-01 pluss N dager: en forskjøvet "
    "kalender som beholder intervallene, men ingen ekte dato."
)


def _fhir_date(scope: Scope, patient_id: int, name: str, day: datetime.date | None) -> dict:
    """The element ``name`` (a FHIR date or dateTime) for ``day``, with its study day as an
    extension on the value: the calendar date where the scope allows dates, else the study
    day written on the shifted calendar that starts at 2000-01-01 (day 0)."""
    if day is None:
        return {}
    study_day = scope.day(patient_id, day)
    written = day if scope.with_dates else SHIFTED_DAY0 + datetime.timedelta(days=study_day)
    return {
        name: written.isoformat(),
        f"_{name}": {"extension": [{"url": STUDY_DAY, "valueInteger": study_day}]},
    }


def _english(choices) -> dict[str, str]:
    from django.utils import translation

    with translation.override("en"):
        return {value: str(label) for value, label in choices}


def _group_atc() -> dict[str, str]:
    """The ATC code of each dose group (one substance per group)."""
    from hab.dosing.rules import MEDICATION_GROUP
    from hab.prescribing.models import ATC

    return {str(MEDICATION_GROUP[medication]): code for medication, code in ATC.items()}


def research_url(kind: str, resource_id: str) -> str:
    """A resource's fullUrl in the research Bundle: a name-based UUID of its type and
    research id, the same in every export, saying nothing the id does not."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'urn:hab:research:{kind}/{resource_id}')}"


def write_fhir(scope: Scope, target) -> dict[str, int]:
    """A FHIR R4B Bundle (collection), written entry by entry: a Patient per research id (no
    other identifier), an EpisodeOfCare per episode, a MedicationAdministration per
    patient-day and dose group with a dose given (the day's total and number of doses, the
    sums of ``doses_daily``), and a QuestionnaireResponse per current follow-up response.

    R4B, not fhir.resources' default R5: Legemiddelregisteret's guide is FHIR R4. What
    differs here: MedicationAdministration has ``medicationCodeableConcept`` and
    ``effectivePeriod`` (R5: ``medication`` as a CodeableReference and ``occurence[x]``);
    EpisodeOfCare's ``type`` carries the phase, and an extension the end reason (R4B has no
    element for it); QuestionnaireResponse.questionnaire is a canonical in both but optional
    in R4B (R5 requires it), and ``authored`` is a dateTime, here a whole day.

    Dates: see ``FHIR_DATES_EN``. Ids are research ids and running numbers per patient (the
    episode number is that of the ``episodes`` table); no HAB database id. Answers are read
    a batch of responses at a time, so the queries do not grow with the responses."""
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare
    from fhir.resources.R4B.medicationadministration import MedicationAdministration
    from fhir.resources.R4B.patient import Patient as FhirPatient
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    from hab.intake.models import EndReason, Episode, Phase

    counts = {
        "Patient": 0,
        "EpisodeOfCare": 0,
        "MedicationAdministration": 0,
        "QuestionnaireResponse": 0,
    }
    dates = "calendar" if scope.with_dates else "shifted"
    target.write(
        b'{"resourceType":"Bundle","meta":{"tag":[{"system":"urn:hab:export-dates","code":"'
        + dates.encode()
        + b'"}]},"type":"collection","entry":['
    )
    first = True

    def entry(model, data: dict) -> None:
        """Writes the resource as built; checked against its R4B model, except the daily
        doses after the first (a million patient-days at national scale, at a millisecond
        each; their shape is this code's alone, and the tests check every one)."""
        nonlocal first
        kind = model.get_resource_type()
        resource = {"resourceType": kind, **data}
        if kind != "MedicationAdministration" or not counts[kind]:
            model.model_validate(resource)
        body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        url = research_url(kind, data["id"])
        target.write(f'{"" if first else ","}{{"fullUrl":"{url}","resource":{body}}}'.encode())
        first = False
        counts[kind] += 1

    def patient(patient_id: int) -> dict:
        return {"reference": research_url("Patient", scope.patients[patient_id].lower())}

    def concept(system: str, code: str, display: str) -> dict:
        return {"coding": [{"system": system, "code": code, "display": display}]}

    for research_id in scope.patients.values():
        entry(
            FhirPatient,
            {
                "id": research_id.lower(),
                "identifier": [{"system": "urn:hab:research-id", "value": research_id}],
            },
        )

    # Episodes, numbered per patient as in the episodes table.
    clinic_code = dict(Clinic.objects.values_list("pk", "code"))
    phases, reasons = _english(Phase.choices), _english(EndReason.choices)
    number: dict[int, int] = {}
    for patient_id, clinic_id, admitted, ended, reason, phase in (
        Episode.objects.filter(patient_id__in=_ids(scope))
        .order_by("patient_id", "admitted_on", "pk")
        .values_list("patient_id", "clinic_id", "admitted_on", "ended_on", "end_reason", "phase")
        .iterator(chunk_size=CHUNK)
    ):
        number[patient_id] = number.get(patient_id, 0) + 1
        ending = {
            "extension": [
                {
                    "url": "urn:hab:end-reason",
                    "valueCodeableConcept": concept(
                        "urn:hab:end-reason", reason, reasons.get(reason, reason)
                    ),
                }
            ]
        }
        entry(
            EpisodeOfCare,
            {
                "id": f"{scope.patients[patient_id].lower()}-e{number[patient_id]}",
                **(ending if ended and reason else {}),
                "status": "finished" if ended else "active",
                "type": [concept("urn:hab:episode-phase", phase, phases.get(phase, phase))],
                "patient": patient(patient_id),
                "managingOrganization": {"display": clinic_code[clinic_id]},
                "period": _fhir_date(scope, patient_id, "start", admitted)
                | _fhir_date(scope, patient_id, "end", ended),
            },
        )

    # A day's total per dose group: doses_daily's sums, kept apart by group.
    atc = _group_atc()
    days = (
        current_doses(scope)
        .filter(GIVEN)
        .values("patient_id", "day", "group")
        .annotate(doses=given_doses(), total=given_mg())
        .order_by("patient_id", "day", "group")
        .values_list("patient_id", "day", "group", "doses", "total")
    )
    for patient_id, day, group, doses, total in days.iterator(chunk_size=CHUNK):
        study_day = scope.day(patient_id, day)
        coding = [{"system": ATC_SYSTEM, "code": atc[group]}] if group in atc else []
        entry(
            MedicationAdministration,
            {
                "id": f"{scope.patients[patient_id].lower()}-{group}-d{study_day}",
                "extension": [{"url": DOSES_GIVEN, "valueInteger": doses}],
                "status": "completed",
                "medicationCodeableConcept": {
                    **({"coding": coding} if coding else {}),
                    "text": group,
                },
                "subject": patient(patient_id),
                "effectivePeriod": _fhir_date(scope, patient_id, "start", day)
                | _fhir_date(scope, patient_id, "end", day),
                "dosage": {
                    "dose": {"value": mg(total), "unit": "mg", "system": UCUM, "code": "mg"}
                },
            },
        )

    _write_responses(scope, entry, patient, QuestionnaireResponse)
    target.write(b"]}")
    return counts


def _write_responses(scope: Scope, entry, patient, model) -> None:
    """A QuestionnaireResponse per current response; the answers of a batch of responses
    read in one query."""
    from hab.research.models import Answer, Item, ItemType, Response

    items = {
        pk: (code, kind, order, instrument)
        for pk, code, kind, order, instrument in Item.objects.values_list(
            "pk", "code", "type", "order", "instrument__code"
        )
        if kind != ItemType.TEXT or scope.free_text
    }
    responses = (
        not_corrected(Response.objects.filter(follow_up__patient_id__in=_ids(scope)))
        .order_by("follow_up__patient_id", "answered_on", "pk")
        .values_list(
            "pk",
            "follow_up__patient_id",
            "follow_up__timepoint",
            "answered_on",
            "instrument__code",
            "instrument__version",
        )
    )
    number: dict[int, int] = {}
    for batch in _chunks(responses.iterator(chunk_size=500), 500):
        answers: dict[int, list[tuple]] = {}
        for response_id, item_id, value_int, value_date, value_text in Answer.objects.filter(
            response_id__in=[row[0] for row in batch], item_id__in=list(items)
        ).values_list("response_id", "item_id", "value_int", "value_date", "value_text"):
            answers.setdefault(response_id, []).append(
                (items[item_id], value_int, value_date, value_text)
            )
        for response_id, patient_id, timepoint, answered, instrument, version in batch:
            number[patient_id] = number.get(patient_id, 0) + 1
            given = sorted(answers.get(response_id, []), key=lambda a: (a[0][2], a[0][0]))
            found = []
            for (code, kind, _order, item_instrument), value_int, value_date, text in given:
                if kind == ItemType.TEXT:
                    value = {"valueString": text} if text else {}
                elif kind == ItemType.DATE:
                    value = _fhir_date(scope, patient_id, "valueDate", value_date)
                elif value_int is None:
                    value = {}
                elif kind == ItemType.YES_NO:
                    value = {"valueBoolean": bool(value_int)}
                elif kind == ItemType.CHOICE:
                    system = f"urn:hab:{item_instrument}:v{version}:{code}"
                    value = {"valueCoding": {"system": system, "code": str(value_int)}}
                else:
                    value = {"valueInteger": value_int}
                if value:
                    found.append({"linkId": code, "answer": [value]})
            entry(
                model,
                {
                    "id": f"{scope.patients[patient_id].lower()}-q{number[patient_id]}",
                    "status": "completed",
                    "questionnaire": f"urn:hab:questionnaire:{instrument}|{version}",
                    "subject": patient(patient_id),
                    **_fhir_date(scope, patient_id, "authored", answered),
                    "item": [
                        {"linkId": "timepoint", "answer": [{"valueString": timepoint}]},
                        {
                            "linkId": "study_day",
                            "answer": [{"valueInteger": scope.day(patient_id, answered)}],
                        },
                        *found,
                    ],
                },
            )


def export(user: User, fmt: str, clinic: str = "", *, free_text: bool = False) -> Exported:
    """Writes the export to a temporary file, logs it and returns where it is. Free-text
    answers only with ``free_text``, which the log keeps."""
    from hab.research.models import ExportLog

    if fmt not in FORMATS:
        raise Invalid.one("format", "Choose one of: " + ", ".join(FORMATS) + ".")
    scope = scope_for(user, clinic, free_text=free_text)
    with tempfile.NamedTemporaryFile(prefix="hab-export-", delete=False) as handle:
        rows = write_fhir(scope, handle) if fmt == "fhir" else write_zip(scope, fmt, handle)
    path = Path(handle.name)
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    stamp = f"{timezone.localtime(clock.now()):%Y%m%d-%H%M}"
    ExportLog.objects.create(
        at=clock.now(),
        user=user,
        format=fmt,
        filters={"clinic": clinic} if clinic else {},
        with_dates=scope.with_dates,
        free_text=scope.free_text,
        rows=rows,
        left_out=scope.left_out,
        sha256=digest.hexdigest(),
    )
    if fmt == "fhir":
        return Exported(
            path,
            f"hab-fhir-{stamp}.json",
            "application/fhir+json",
            digest.hexdigest(),
            rows,
            scope.left_out,
            scope.free_text,
        )
    return Exported(
        path,
        f"hab-research-{fmt}-{stamp}.zip",
        "application/zip",
        digest.hexdigest(),
        rows,
        scope.left_out,
        scope.free_text,
    )
