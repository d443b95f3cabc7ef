"""Demo part of incidents: two months of avvik at each clinic, as the clinic's earlier
incident book would be imported: overdoses after a dose (naloxone, an ambulance once),
injection-site problems, a seizure, threats in the waiting room, a dosing error, most
followed up and closed, some still open. The stock discrepancies of the ledger's history
get their incident too; today's opened its own through the count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import translation

from hab.core import clock
from hab.core.formats import mg_text
from hab.dosing.models import Administration
from hab.incidents.models import Incident, IncidentEvent, Kind, Severity, Source, Status
from hab.stock.models import Discrepancy

# (days ago, kind, severity, naloxone mg, ambulance, hospital, description, actions, status)
STORIES = [
    (
        52,
        Kind.OVERDOSE,
        Severity.SERIOUS,
        "0.8",
        True,
        False,
        "Respirasjonsfrekvens 6 og cyanose 8 minutter etter dosen. Nalokson 0,4 mg i.m. to "
        "ganger; våken og pustet normalt etter 5 minutter.",
        "Oksygen, nalokson, ambulanse tilkalt; pasienten avslo innleggelse.",
        Status.CLOSED,
    ),
    (
        41,
        Kind.INJECTION_SITE,
        Severity.MINOR,
        None,
        False,
        False,
        "Rødme og hevelse i venstre lyske, mistenkt abscess.",
        "Lege vurderte; antibiotika forskrevet, veiledning om injeksjonsteknikk.",
        Status.CLOSED,
    ),
    (
        33,
        Kind.VIOLENCE,
        Severity.MODERATE,
        None,
        False,
        False,
        "Pasient truet en sykepleier verbalt i venterommet etter å ha ventet på dosen.",
        "Skjermet, samtale med to ansatte; rolig etter et kvarter.",
        Status.CLOSED,
    ),
    (
        24,
        Kind.DOSING_ERROR,
        Severity.MODERATE,
        None,
        False,
        False,
        "Trukket opp 250 mg i stedet for forskrevet 200 mg; oppdaget ved dobbeltkontroll før "
        "injeksjon. Ingen dose feil gitt.",
        "Riktig dose trukket opp; resten kassert med vitne.",
        Status.CLOSED,
    ),
    (
        15,
        Kind.SEIZURE,
        Severity.SERIOUS,
        None,
        True,
        True,
        "Generaliserte kramper i observasjonsrommet, ca. 2 minutter. Kjent epilepsi, "
        "ikke tatt medisinene sine på flere dager.",
        "Sideleie, ambulanse, innlagt nevrologisk avdeling.",
        Status.FOLLOW_UP,
    ),
    (
        6,
        Kind.OVERDOSE,
        Severity.SERIOUS,
        "0.4",
        False,
        False,
        "Sedert (POSS 4) 12 minutter etter dosen, respirasjonsfrekvens 8. Hadde tatt "
        "benzodiazepiner før oppmøte.",
        "Nalokson 0,4 mg i.m.; observert 2 timer.",
        Status.FOLLOW_UP,
    ),
    (
        2,
        Kind.OTHER,
        Severity.MINOR,
        None,
        False,
        False,
        "Pasient kom med en hund som ble urolig i venterommet.",
        "Hunden ventet ute med en venn.",
        Status.OPEN,
    ),
]


def contribute(ctx) -> None:
    rng = ctx.rng
    today = clock.today()
    made = 0
    for code, clinic in ctx.clinics.items():
        nurse, doctor, lead = (
            ctx.users[f"{role}.{code}"] for role in ("nurse", "doctor", "clinic_lead")
        )
        for days, kind, severity, naloxone, ambulance, hospital, text, actions, status in STORIES:
            day = today - timedelta(days=days)
            dose = (
                Administration.objects.filter(
                    clinic=clinic, day=day, status="given", corrects__isnull=True
                )
                .order_by("given_at")
                .first()
            )
            if dose is None:
                continue
            with_dose = kind in (Kind.OVERDOSE, Kind.SEIZURE, Kind.DOSING_ERROR)
            at = dose.given_at + timedelta(minutes=rng.randint(5, 15))
            incident = Incident.objects.create(
                clinic=clinic,
                kind=kind,
                severity=severity,
                occurred_at=at,
                patient_id=dose.patient_id,
                administration=dose if with_dose else None,
                naloxone_mg=Decimal(naloxone) if naloxone else None,
                naloxone_doses=int(Decimal(naloxone) / Decimal("0.4")) if naloxone else None,
                ambulance=ambulance,
                hospital=hospital,
                description=text,
                immediate_actions=actions,
                source=Source.REPORT,
                reported_at=at + timedelta(minutes=30),
                reported_by=nurse,
            )
            steps = [(at + timedelta(minutes=30), nurse, Status.OPEN, None, "")]
            if status in (Status.FOLLOW_UP, Status.CLOSED):
                steps.append(
                    (
                        at + timedelta(days=1),
                        lead,
                        Status.FOLLOW_UP,
                        doctor,
                        "Legen følger opp med pasienten.",
                    )
                )
            if status == Status.CLOSED:
                steps.append(
                    (
                        at + timedelta(days=4),
                        doctor,
                        Status.CLOSED,
                        doctor,
                        "Gjennomgått med pasienten og i personalmøtet; ingen videre tiltak.",
                    )
                )
            IncidentEvent.objects.bulk_create(
                IncidentEvent(incident=incident, at=when, by=by, status=s, owner=owner, note=note)
                for when, by, s, owner, note in steps
            )
            made += 1
        for discrepancy in Discrepancy.objects.filter(clinic=clinic, incident__isnull=True):
            _for_discrepancy(discrepancy, nurse)
            made += 1
    ctx.log.append(f"Incidents: {made} over two months, some still open.")


def _nb_mg(amount: Decimal) -> str:
    """An amount written the Norwegian way (9 990,5), as the text around it is."""
    with translation.override("nb"):
        return mg_text(amount)


def _for_discrepancy(discrepancy, nurse) -> None:
    count = discrepancy.count
    incident = Incident.objects.create(
        clinic_id=discrepancy.clinic_id,
        kind=Kind.STOCK_DISCREPANCY,
        severity=Severity.MODERATE,
        occurred_at=count.counted_at,
        discrepancy=discrepancy,
        description=(
            f"Telling av {count.batch.product.name}, batch {count.batch.lot}: telt "
            f"{_nb_mg(count.counted_mg)} mg, bokført {_nb_mg(count.book_mg)} mg."
        ),
        source=Source.STOCK_COUNT,
        reported_at=count.counted_at,
        reported_by=nurse,
    )
    steps = [IncidentEvent(incident=incident, at=count.counted_at, by=nurse, status=Status.OPEN)]
    resolution = getattr(discrepancy, "resolution", None)
    if resolution is not None:
        steps.append(
            IncidentEvent(
                incident=incident,
                at=resolution.resolved_at,
                by=resolution.resolved_by,
                status=Status.CLOSED,
                note=resolution.explanation,
            )
        )
    IncidentEvent.objects.bulk_create(steps)
