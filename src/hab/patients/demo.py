"""Demo part of the registry: synthetic patients with Norwegian names, consents, relatives."""

from __future__ import annotations

from datetime import date, timedelta

from hab.core.access import Actor
from hab.patients import services
from hab.patients.models import ConsentKind
from hab.patients.national_id import make_synthetic

GIVEN = {
    "male": [
        "Jan",
        "Per",
        "Bjørn",
        "Ole",
        "Lars",
        "Kjetil",
        "Geir",
        "Terje",
        "Stian",
        "Espen",
        "Rune",
        "Thomas",
        "Morten",
        "Frode",
        "Tommy",
        "Kristian",
        "Vegard",
        "Anders",
        "Remi",
        "Roy",
        "Ronny",
        "Dag",
        "Øyvind",
        "Sindre",
        "Håkon",
        "Glenn",
        "Arild",
        "Trond",
    ],
    "female": [
        "Anne",
        "Inger",
        "Kari",
        "Marit",
        "Ingrid",
        "Liv",
        "Hege",
        "Tone",
        "Heidi",
        "Linda",
        "Silje",
        "Camilla",
        "Mette",
        "Nina",
        "Trine",
        "Marianne",
        "Lise",
        "Gro",
        "Åse",
        "Kristin",
        "Tonje",
        "Randi",
        "Eli",
        "Sissel",
    ],
}
FAMILY = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Svendsen",
    "Eide",
    "Knutsen",
    "Martinsen",
    "Paulsen",
    "Bakken",
    "Kristoffersen",
    "Mathisen",
    "Lie",
    "Amundsen",
    "Nguyen",
    "Rasmussen",
    "Ali",
    "Lunde",
    "Solheim",
    "Berge",
    "Moe",
    "Nygård",
    "Bakke",
    "Kristensen",
    "Fredriksen",
    "Holm",
    "Lien",
    "Hauge",
    "Christensen",
    "Andresen",
    "Nielsen",
    "Knudsen",
    "Evensen",
    "Sæther",
    "Aas",
    "Myhre",
    "Hanssen",
    "Ahmed",
    "Haugland",
    "Thomassen",
    "Sivertsen",
    "Simonsen",
    "Danielsen",
    "Berntsen",
    "Sandvik",
]
STREETS = {
    "oslo": ["Tøyengata", "Grønlandsleiret", "Storgata", "Helgesens gate", "Trondheimsveien"],
    "bergen": [
        "Nygårdsgaten",
        "Strandgaten",
        "Kong Oscars gate",
        "Fjøsangerveien",
        "Danmarksplass",
    ],
}
RELATIONS = ["mor", "far", "søster", "bror", "samboer", "datter", "sønn", "venn"]
# Registered without a referral yet (first contact); the rest come with their referrals.
REGISTERED_ONLY = {"oslo": 6, "bergen": 3}


def _synthetic_id(rng, used: set[str], born: date, sex: str, d_number: bool) -> str:
    while True:
        # The 9th digit is odd for men and even for women (classic numbers).
        individual = rng.randint(0, 249) * 2 + (1 if sex == "male" else 0)
        value = make_synthetic(born, individual, d_number=d_number)
        if value and value not in used:
            used.add(value)
            return value


def new_person(ctx, code: str) -> dict:
    """A synthetic person: the fields a referral of someone new carries."""
    rng = ctx.rng
    used = ctx.__dict__.setdefault("used_ids", set())
    # Severe opioid dependence: mostly men, typically in their thirties to fifties.
    sex = "male" if rng.random() < 0.75 else "female"
    born = date(1962, 1, 1) + timedelta(days=rng.randint(0, 365 * 38))
    phone = (
        f"+47 {rng.choice('49')}{rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(100, 999)}"
    )
    return {
        "national_id": _synthetic_id(rng, used, born, sex, d_number=rng.random() < 0.06),
        "given_name": rng.choice(GIVEN[sex]),
        "family_name": rng.choice(FAMILY),
        "phone": phone if rng.random() < 0.8 else "",
        "address": f"{rng.choice(STREETS[code])} {rng.randint(1, 120)}"
        if rng.random() < 0.7
        else "",
    }


def enrich(ctx, code: str, patient) -> None:
    """Consents and relatives, as recorded when the person comes in."""
    rng = ctx.rng
    actor = Actor.system(ctx.users[f"coordinator.{code}"])
    services.consent_record(
        actor=actor, patient_id=patient.pk, kind=ConsentKind.TREATMENT, given=True
    )
    if rng.random() < 0.85:
        services.consent_record(
            actor=actor, patient_id=patient.pk, kind=ConsentKind.RESEARCH, given=True
        )
        if rng.random() < 0.05:
            services.consent_record(
                actor=Actor.system(ctx.users[f"nurse.{code}"]),
                patient_id=patient.pk,
                kind=ConsentKind.RESEARCH,
                given=False,
                note="Ønsker ikke lenger å delta i forskningen.",
            )
    if rng.random() < 0.55:
        services.relative_save(
            actor=actor,
            patient_id=patient.pk,
            values={
                "name": f"{rng.choice(GIVEN['female'] + GIVEN['male'])} "
                f"{rng.choice([patient.family_name, *FAMILY])}",
                "relation": rng.choice(RELATIONS),
                "phone": f"+47 9{rng.randint(1000000, 9999999)}",
                "is_next_of_kin": True,
            },
        )
        services.consent_record(
            actor=actor, patient_id=patient.pk, kind=ConsentKind.RELATIVES, given=True
        )


def contribute(ctx) -> None:
    for code, clinic in ctx.clinics.items():
        actor = Actor.system(ctx.users[f"coordinator.{code}"])
        for _ in range(max(1, round(REGISTERED_ONLY[code] * ctx.scale))):
            person = new_person(ctx, code)
            services.patient_create(
                actor=actor,
                clinic=clinic,
                national_id_value=person.pop("national_id"),
                **person,
            )
