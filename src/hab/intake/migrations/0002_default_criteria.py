"""The trial's default intake criteria (version 1), from protocol-defaults.md."""

from django.db import migrations

CRITERIA = [
    (
        "opioid_dependence",
        "Opioidavhengighet (ICD-10 F11.2), opioiddominert bruk",
        "Opioid dependence (ICD-10 F11.2), opioid-dominated use",
        "Norwegian HAB target group (OUS HABIO)",
        None,
    ),
    (
        "min_age",
        "18 år eller eldre",
        "18 years or older",
        "Switzerland (asbo.ch); Germany (Diaphin prescribing information)",
        18,
    ),
    (
        "dependence_duration",
        "Opioidavhengig i minst 2 år",
        "Opioid dependent for at least 2 years",
        "Switzerland; Germany",
        None,
    ),
    (
        "previous_oat",
        "Tidligere LAR/OAT uten tilfredsstillende stabilisering",
        "Earlier LAR/OAT without satisfactory stabilisation",
        "OUS HABIO; the trial's public texts",
        None,
    ),
    (
        "treatment_attempts",
        "Minst 2 tidligere behandlingsforsøk avbrutt eller uten effekt",
        "At least 2 earlier treatment attempts dropped out of or without effect",
        "Switzerland; NAOMI",
        None,
    ),
    (
        "informed_consent",
        "Informert samtykke til behandlingen er gitt",
        "Informed consent to the treatment is given",
        "All trials",
        None,
    ),
    (
        "no_contraindication",
        "Ingen kontraindikasjon (legen noterer vurderingen)",
        "No contraindication (the doctor notes the assessment)",
        "Diaphin prescribing information",
        None,
    ),
]


def forwards(apps, schema_editor):
    CriteriaSet = apps.get_model("intake", "CriteriaSet")
    Criterion = apps.get_model("intake", "Criterion")
    criteria_set = CriteriaSet.objects.create(
        version=1, note="Default set shipped with HAB (protocol-defaults.md)."
    )
    for position, (code, text_nb, text_en, source, min_age) in enumerate(CRITERIA):
        Criterion.objects.create(
            criteria_set=criteria_set,
            code=code,
            text_nb=text_nb,
            text_en=text_en,
            source=source,
            min_age=min_age,
            position=position,
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
