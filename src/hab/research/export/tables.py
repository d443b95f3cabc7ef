"""The export's tables: their columns, labelled in English and Norwegian and coded where a
value is one of a few, and where their rows come from (``queries``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from django.db import connection
from django.utils import translation

from hab.core.models import Clinic
from hab.incidents.models import Kind as IncidentKind
from hab.incidents.models import Severity
from hab.intake.models import EndReason
from hab.research.models import Item, ItemType

from . import queries
from .scope import Scope


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


YES_NO = {0: ("No", "Nei"), 1: ("Yes", "Ja")}


def coded(choices) -> dict[int, tuple[str, str]]:
    """Django choices as numbered codes with English and Norwegian labels."""
    codes = {}
    for number, (_value, label) in enumerate(choices, start=1):
        with translation.override("en"):
            en = str(label)
        with translation.override("nb"):
            nb = str(label)
        codes[number] = (en, nb)
    return codes


def numbering(choices) -> dict[str, int]:
    return {value: number for number, (value, _label) in enumerate(choices, start=1)}


def _date_columns(scope: Scope, *names: str) -> list[Column]:
    if not scope.with_dates:
        return []
    return [Column(f"{n}_date", "date", f"{n} (calendar date)", f"{n} (dato)") for n in names]


def tables(scope: Scope) -> list[Table]:
    clinics = list(Clinic.objects.order_by("pk").values_list("pk", "code", "name"))
    clinic_code = {pk: number for number, (pk, _c, _n) in enumerate(clinics, start=1)}
    clinic_labels = {number: (name, name) for number, (_pk, _c, name) in enumerate(clinics, 1)}
    end_codes = numbering(EndReason.choices)
    return [
        _patients(scope, clinic_code, clinic_labels, end_codes),
        _episodes(scope, clinic_code, clinic_labels, end_codes),
        _doses(scope),
        _incidents(scope),
        *follow_up_tables(scope),
    ]


def _patients(scope: Scope, clinic_code, clinic_labels, end_codes) -> Table:
    return Table(
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
                coded(EndReason.choices),
            ),
            Column(
                "days_in_programme",
                "int",
                "Days from first admission to end (or export)",
                "Dager fra innskriving til avslutning (eller uttrekk)",
            ),
            *_date_columns(scope, "admitted"),
        ],
        partial(queries.patient_rows, scope, clinic_code, end_codes),
    )


def _episodes(scope: Scope, clinic_code, clinic_labels, end_codes) -> Table:
    return Table(
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
                coded(EndReason.choices),
            ),
            *_date_columns(scope, "start", "end"),
        ],
        partial(queries.episode_rows, scope, clinic_code, end_codes),
    )


def _doses(scope: Scope) -> Table:
    return Table(
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
            *_date_columns(scope, "day"),
        ],
        partial(queries.dose_rows, scope),
        # (no patient in scope: nothing to copy, and no query to build for an empty list)
        copy=(
            partial(queries.dose_copy, scope)
            if connection.vendor == "postgresql" and scope.ids
            else None
        ),
    )


def _incidents(scope: Scope) -> Table:
    return Table(
        "incidents",
        "Incidents concerning a patient",
        "Avvik som gjelder en pasient",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("day", "int", "Study day", "Studiedag"),
            Column("kind", "int", "Kind of incident", "Type avvik", coded(IncidentKind.choices)),
            Column("severity", "int", "Severity", "Alvorlighet", coded(Severity.choices)),
            Column("naloxone_mg", "float", "Naloxone given (mg)", "Nalokson gitt (mg)"),
            Column("ambulance", "int", "Ambulance called", "Ambulanse tilkalt", YES_NO),
            Column("hospital", "int", "Taken to hospital", "Sendt til sykehus", YES_NO),
            *_date_columns(scope, "day"),
        ],
        partial(
            queries.incident_rows,
            scope,
            numbering(IncidentKind.choices),
            numbering(Severity.choices),
        ),
    )


def follow_up_tables(scope: Scope) -> list[Table]:
    """Follow-up time points and responses, long and wide (current responses only)."""
    items = queries.export_items(scope)
    return [_follow_ups(scope), _responses_long(scope, items), _responses_wide(scope, items)]


def _follow_ups(scope: Scope) -> Table:
    return Table(
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
                if scope.with_dates
                else []
            ),
        ],
        partial(queries.follow_up_rows, scope),
    )


def _responses_long(scope: Scope, items: list[Item]) -> Table:
    return Table(
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
        partial(queries.long_rows, scope, items),
    )


def _responses_wide(scope: Scope, items: list[Item]) -> Table:
    # One column per item; an item code used by two instruments gets the instrument's code.
    seen: dict[str, int] = {}
    for item in items:
        seen[item.code] = seen.get(item.code, 0) + 1
    return Table(
        "responses_wide",
        "Follow-up answers, one row per interview",
        "Oppfølgingssvar, én rad per intervju",
        [
            Column("research_id", "str", "Research id", "Forsknings-ID"),
            Column("month", "int", "Time point (months)", "Tidspunkt (måneder)"),
            Column("interview_day", "int", "Interview (study day)", "Intervju (studiedag)"),
            *[_item_column(scope, item, unique=seen[item.code] == 1) for item in items],
        ],
        partial(queries.wide_rows, scope, items),
    )


def _item_column(scope: Scope, item: Item, *, unique: bool) -> Column:
    codes = None
    if item.type == ItemType.CHOICE:
        codes = {o.code: (o.label_en, o.label_nb) for o in item.options.all()}
    elif item.type == ItemType.YES_NO:
        codes = YES_NO
    dated = scope.with_dates
    kind = "str" if item.type == ItemType.TEXT or (item.type == ItemType.DATE and dated) else "int"
    name = item.code if unique else f"{item.instrument.code}__{item.code}"
    return Column(name, kind, item.text_en, item.text_nb, codes)
