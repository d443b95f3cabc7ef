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
PATIENTS_PER_CLINIC = {"oslo": 190, "bergen": 105}


def _synthetic_id(rng, used: set[str], born: date, sex: str, d_number: bool) -> str:
    while True:
        # The 9th digit is odd for men and even for women (classic numbers).
        individual = rng.randint(0, 249) * 2 + (1 if sex == "male" else 0)
        value = make_synthetic(born, individual, d_number=d_number)
        if value and value not in used:
            used.add(value)
            return value


def contribute(ctx) -> None:
    rng, used = ctx.rng, set()
    ctx.patients = {}
    for code, clinic in ctx.clinics.items():
        actor = Actor.system(ctx.users[f"coordinator.{code}"])
        nurse = Actor.system(ctx.users[f"nurse.{code}"])
        made = []
        for _ in range(round(PATIENTS_PER_CLINIC[code] * ctx.scale)):
            # Severe opioid dependence: mostly men, typically in their thirties to fifties.
            sex = "male" if rng.random() < 0.75 else "female"
            born = date(1962, 1, 1) + timedelta(days=rng.randint(0, 365 * 38))
            patient = services.patient_create(
                actor=actor,
                clinic=clinic,
                national_id_value=_synthetic_id(rng, used, born, sex, d_number=rng.random() < 0.06),
                given_name=rng.choice(GIVEN[sex]),
                family_name=rng.choice(FAMILY),
                phone=f"+47 {rng.choice('49')}{rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(100, 999)}"
                if rng.random() < 0.8
                else "",
                address=f"{rng.choice(STREETS[code])} {rng.randint(1, 120)}"
                if rng.random() < 0.7
                else "",
            )
            services.consent_record(
                actor=actor, patient_id=patient.pk, kind=ConsentKind.TREATMENT, given=True
            )
            if rng.random() < 0.85:
                services.consent_record(
                    actor=actor, patient_id=patient.pk, kind=ConsentKind.RESEARCH, given=True
                )
                if rng.random() < 0.05:
                    services.consent_record(
                        actor=nurse,
                        patient_id=patient.pk,
                        kind=ConsentKind.RESEARCH,
                        given=False,
                        note="Ønsker ikke lenger å delta i forskningen.",
                    )
            if rng.random() < 0.55:
                relation = rng.choice(RELATIONS)
                services.relative_save(
                    actor=actor,
                    patient_id=patient.pk,
                    values={
                        "name": f"{rng.choice(GIVEN['female'] + GIVEN['male'])} "
                        f"{rng.choice([patient.family_name, *FAMILY])}",
                        "relation": relation,
                        "phone": f"+47 9{rng.randint(1000000, 9999999)}",
                        "is_next_of_kin": True,
                    },
                )
                services.consent_record(
                    actor=actor, patient_id=patient.pk, kind=ConsentKind.RELATIVES, given=True
                )
            made.append(patient)
        ctx.patients[code] = made
    ctx.log.append(
        "Patients: " + ", ".join(f"{code} {len(p)}" for code, p in ctx.patients.items()) + "."
    )
