"""The core HAB follow-up instrument, version 1, in HAB's own words (bokmål and English).

It asks what the HAT trials and the Norwegian HAB evaluation measure (protocol-defaults.md:
drug use, overdoses, crime, housing, activity, health, quality of life, relatives, hospital
use) without copying a licensed instrument (EQ-5D, SCL-90-R, EuropASI). The interview
date is the response's own field, not an item.
"""

import datetime

from django.db import migrations

DAYS = (0, 30)
SCALE = (0, 10)
# (code, type, (min, max) or None, required, domain, bokmål, English, options)
ITEMS = [
    (
        "heroin_days",
        "integer",
        DAYS,
        True,
        "drugs",
        "Hvor mange av de siste 30 dagene har du brukt heroin kjøpt på gata?",
        "On how many of the last 30 days did you use heroin bought on the street?",
        None,
    ),
    (
        "other_opioid_days",
        "integer",
        DAYS,
        True,
        "drugs",
        "Hvor mange av de siste 30 dagene har du brukt andre opioider enn det du får her "
        "(for eksempel metadon, buprenorfin eller smertestillende) uten resept?",
        "On how many of the last 30 days did you use other opioids than those you get here "
        "(for example methadone, buprenorphine or painkillers) without a prescription?",
        None,
    ),
    (
        "benzodiazepine_days",
        "integer",
        DAYS,
        True,
        "drugs",
        "Hvor mange av de siste 30 dagene har du brukt benzodiazepiner (for eksempel "
        "Rivotril, Valium, Xanor) som ikke er forskrevet til deg?",
        "On how many of the last 30 days did you use benzodiazepines (for example "
        "clonazepam, diazepam, alprazolam) not prescribed to you?",
        None,
    ),
    (
        "stimulant_days",
        "integer",
        DAYS,
        True,
        "drugs",
        "Hvor mange av de siste 30 dagene har du brukt kokain eller amfetamin?",
        "On how many of the last 30 days did you use cocaine or amphetamines?",
        None,
    ),
    (
        "alcohol_days",
        "integer",
        DAYS,
        True,
        "drugs",
        "Hvor mange av de siste 30 dagene har du drukket deg beruset?",
        "On how many of the last 30 days did you drink until you were drunk?",
        None,
    ),
    (
        "injected",
        "yes_no",
        None,
        True,
        "drugs",
        "Har du satt rusmidler med sprøyte de siste 30 dagene (utenom her på klinikken)?",
        "Have you injected drugs in the last 30 days (apart from here at the clinic)?",
        None,
    ),
    (
        "overdose",
        "yes_no",
        None,
        True,
        "overdose",
        "Har du hatt en overdose de siste 3 månedene (og overlevd)?",
        "Have you had an overdose in the last 3 months (and survived)?",
        None,
    ),
    (
        "overdose_count",
        "integer",
        (0, 50),
        False,
        "overdose",
        "Hvis ja: hvor mange overdoser de siste 3 månedene?",
        "If yes: how many overdoses in the last 3 months?",
        None,
    ),
    (
        "crime_days",
        "integer",
        DAYS,
        True,
        "legal",
        "Hvor mange av de siste 30 dagene har du gjort noe ulovlig for å skaffe penger "
        "eller rusmidler?",
        "On how many of the last 30 days did you do something illegal to get money or drugs?",
        None,
    ),
    (
        "arrested",
        "yes_no",
        None,
        True,
        "legal",
        "Har du blitt pågrepet eller tatt inn av politiet de siste 3 månedene?",
        "Have you been arrested or taken in by the police in the last 3 months?",
        None,
    ),
    (
        "housing",
        "choice",
        None,
        True,
        "housing",
        "Hvor har du bodd mesteparten av de siste 30 dagene?",
        "Where have you lived most of the last 30 days?",
        [
            (
                1,
                "Egen leilighet eller eget hus (eid eller leid)",
                "Own flat or house (owned or rented)",
            ),
            (2, "Bolig med oppfølging", "Supported housing"),
            (
                3,
                "Hospits, natthjem eller akuttovernatting",
                "Hostel, night shelter or emergency housing",
            ),
            (4, "Uten bolig, på gata", "Homeless, on the street"),
            (5, "Institusjon (behandling eller omsorg)", "Institution (treatment or care)"),
            (6, "Fengsel", "Prison"),
            (7, "Annet (hos venner, familie eller annet)", "Other (with friends, family or other)"),
        ],
    ),
    (
        "activity",
        "choice",
        None,
        True,
        "activity",
        "Hva har du hovedsakelig gjort på dagtid de siste 30 dagene?",
        "What have you mainly done in the daytime in the last 30 days?",
        [
            (1, "Ordinært arbeid", "Ordinary work"),
            (2, "Arbeidstrening eller tilrettelagt arbeid", "Work training or adapted work"),
            (3, "Skole eller utdanning", "School or education"),
            (4, "Dagtilbud eller aktivitetstilbud", "Day programme or activity"),
            (5, "Ingen fast aktivitet", "No regular activity"),
            (6, "Annet", "Other"),
        ],
    ),
    (
        "physical_health",
        "integer",
        SCALE,
        True,
        "health",
        "Hvordan vil du si at den fysiske helsen din har vært de siste 30 dagene? "
        "(0 = svært dårlig, 10 = svært god)",
        "How would you say your physical health has been in the last 30 days? "
        "(0 = very poor, 10 = very good)",
        None,
    ),
    (
        "mental_health",
        "integer",
        SCALE,
        True,
        "health",
        "Hvordan vil du si at den psykiske helsen din har vært de siste 30 dagene? "
        "(0 = svært dårlig, 10 = svært god)",
        "How would you say your mental health has been in the last 30 days? "
        "(0 = very poor, 10 = very good)",
        None,
    ),
    (
        "quality_of_life",
        "integer",
        SCALE,
        True,
        "quality_of_life",
        "Alt i alt, hvor fornøyd er du med livet ditt nå? (0 = svært misfornøyd, "
        "10 = svært fornøyd)",
        "All in all, how satisfied are you with your life now? (0 = very dissatisfied, "
        "10 = very satisfied)",
        None,
    ),
    (
        "relatives_contact",
        "yes_no",
        None,
        True,
        "network",
        "Har du hatt kontakt med familie eller andre nære de siste 30 dagene?",
        "Have you been in touch with family or others close to you in the last 30 days?",
        None,
    ),
    (
        "hospital_days",
        "integer",
        (0, 90),
        True,
        "services",
        "Hvor mange døgn har du vært innlagt på sykehus de siste 3 månedene?",
        "How many days and nights have you been in hospital in the last 3 months?",
        None,
    ),
    (
        "comment",
        "text",
        None,
        False,
        "other",
        "Kommentar (valgfritt)",
        "Comment (optional)",
        None,
    ),
]


def forwards(apps, schema_editor):
    Instrument = apps.get_model("research", "Instrument")
    Item = apps.get_model("research", "Item")
    Option = apps.get_model("research", "Option")
    if Instrument.objects.filter(code="hab_core", version=1).exists():
        return
    instrument = Instrument.objects.create(
        code="hab_core",
        version=1,
        name_nb="HAB oppfølgingsintervju",
        name_en="HAB follow-up interview",
        active=True,
        created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    for order, (code, kind, bounds, required, domain, text_nb, text_en, options) in enumerate(
        ITEMS, start=1
    ):
        item = Item.objects.create(
            instrument=instrument,
            code=code,
            order=order,
            text_nb=text_nb,
            text_en=text_en,
            type=kind,
            min_value=bounds[0] if bounds else None,
            max_value=bounds[1] if bounds else None,
            required=required,
            domain=domain,
        )
        Option.objects.bulk_create(
            Option(item=item, code=c, label_nb=nb, label_en=en) for c, nb, en in options or []
        )


class Migration(migrations.Migration):
    dependencies = [("research", "0002_append_only")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
