"""The dose history as a chart and a table (dosing/charts.py), and where the doctor sees
them: the prescription form and the patient's record."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from hab.core.models import AccessLog
from hab.dosing import charts, history
from hab.patients.models import Patient
from tests.dosing.dose_history_helpers import ago, build

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def built(admitted):
    return build(admitted()["patient"])


@pytest.fixture
def found(built) -> history.DoseHistory:
    return history.dose_history(Patient.objects.get(pk=built.patient_id))


def drawn(found, language: str = "nb", group: str = "dam") -> tuple[str, ET.Element]:
    with translation.override(language):
        text = charts.svg(found, group)
    return text, ET.fromstring(text)


def ids(root: ET.Element, prefix: str) -> list[str]:
    return [e.get("id") for e in root.iter() if (e.get("id") or "").startswith(prefix)]


def test_the_chart_is_an_svg_image_with_a_title_and_a_description(found):
    _text, root = drawn(found)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title"
    assert title.text.startswith("Diacetylmorfin (injeksjoner og tabletter): forskrevet og gitt")
    assert desc.tag == f"{SVG}desc"
    assert desc.text.startswith("Siste 28 dager.")
    assert "Forskrevet per økt: 200–250 mg." in desc.text
    assert "Ikke møtt: 1. Holdt tilbake: 1. Avslått av pasienten: 1." in desc.text


def test_the_description_names_one_dose_when_the_prescription_did_not_change(built):
    patient = Patient.objects.get(pk=built.patient_id)
    week = history.dose_history(patient, end=ago(20), days=7)

    with translation.override("nb"):
        text = charts.summary(week, "dam")

    assert text.startswith("Siste 7 dager. Forskrevet per økt: 200 mg. Doser gitt: 7 ")


def test_each_session_has_its_mark(found):
    _text, root = drawn(found)

    assert len(ids(root, "given-given-")) == 7  # a bar for each dose given in full
    assert len(ids(root, "given-partial-")) == 1
    assert len(ids(root, "mark-missed-")) == 1
    assert len(ids(root, "mark-withheld-")) == 1
    assert len(ids(root, "mark-refused-")) == 1
    assert len(ids(root, "mark-sedated-")) == 1
    assert len(ids(root, "mark-overdose-")) == 1
    assert len(ids(root, "mark-poss-")) == 10  # every session with a POSS score
    assert ids(root, "prescribed") == ["prescribed"]


def test_a_day_without_a_prescription_or_record_has_no_mark(found):
    sessions = found.of("dam")
    empty = [i for i, s in enumerate(sessions) if s.day == ago(19)]
    _text, root = drawn(found)

    marked = {int(i.rsplit("-", 1)[1]) for i in ids(root, "mark-") + ids(root, "given-")}
    assert not marked & set(empty)


def test_the_shapes_that_tell_sessions_apart_differ_and_the_legend_names_them(found):
    text, _root = drawn(found)

    shapes = [shape for shape, _colour in charts.NOT_GIVEN.values()]
    shapes += [shape for shape, _colour in charts.OBSERVED.values()]
    assert len(set(shapes)) == len(shapes)
    for label in ("Forskrevet", "Ikke møtt", "Holdt tilbake", "Delvis gitt", "mg per økt"):
        assert label in text
    assert "Observasjon: sedert" in text


def test_the_chart_speaks_english_to_an_english_reader(found):
    text, root = drawn(found, "en")

    assert "Missed" in text and "Ikke møtt" not in text
    assert root[1].text.startswith("Last 28 days.")


def test_numbers_have_a_decimal_comma_in_bokmal_and_a_point_in_english(found):
    with translation.override("nb"):
        nb_rows = charts.table(found, "dam")
        nb_summary = charts.summary(found, "dam")
    with translation.override("en"):
        en_rows = charts.table(found, "dam")
        en_summary = charts.summary(found, "dam")

    overdose_day = next(r for r in nb_rows if r.iso == str(ago(21)))
    assert overdose_day.cells[1].outcome == "Overdose, nalokson 0,4 mg"
    assert next(r for r in en_rows if r.iso == str(ago(21))).cells[1].outcome == (
        "Overdose, naloxone 0.4 mg"
    )
    # The mean of the doses given: 1227.5 mg over 8 doses.
    assert "i snitt 153,4 mg" in nb_summary
    assert "mean 153.4 mg" in en_summary


def test_the_table_has_a_row_a_day_newest_first_and_a_cell_a_session(found):
    with translation.override("nb"):
        rows = charts.table(found, "dam")

    assert len(rows) == 28
    assert rows[0].iso == str(found.end)
    assert all(len(row.cells) == 2 for row in rows)
    by_day = {row.iso: row.cells for row in rows}
    morning, afternoon = by_day[str(ago(24))]
    assert (morning.prescribed, morning.given, morning.status) == ("200", "137,5", "Delvis gitt")
    assert (afternoon.given, afternoon.status, afternoon.poss) == ("–", "Ikke møtt", "–")
    corrected = by_day[str(ago(22))][0]
    assert (corrected.given, corrected.status) == ("180", "Gitt (rettet)")
    assert by_day[str(ago(21))][0].status == "Gitt (tilleggsdose 15 mg)"
    assert [c.status for c in by_day[str(ago(19))]] == ["–", "–"]
    assert by_day[str(ago(3))][1].status == "Ikke registrert"


def test_the_same_history_draws_the_same_bytes(found):
    assert drawn(found)[0] == drawn(found)[0]


# --- on the pages ----------------------------------------------------------------------


def chart_in(page: str) -> ET.Element:
    found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert found, "no chart on the page"
    return ET.fromstring(base64.b64decode(found.group(1)))


def test_the_doctor_sees_the_chart_and_table_where_the_prescription_is_changed(built, web_as):
    page = web_as("doctor.oslo").get(f"/prescribing/patients/{built.patient_id}/new/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Doser de siste 28 dagene" in html
    assert len(ids(chart_in(html), "mark-missed-")) == 1
    assert "Det samme som tabell" in html
    assert html.count('<tr><th scope="row"><time') == 28 + 28  # two groups' tables
    # The form follows the chart.
    assert html.index("dose-history") < html.index('class="card form"')
    # One read: opening the patient's prescribing, which shows the history with it.
    logged = AccessLog.objects.filter(
        patient_id=built.patient_id, username="doctor.oslo", action="view"
    )
    assert [row.what for row in logged] == ["prescriptions"]


def test_the_record_shows_the_chart_within_the_logged_read_of_the_record(built, web_as):
    page = web_as("nurse.oslo").get(f"/patients/{built.patient_id}/")

    html = page.content.decode()
    assert "Doser de siste 28 dagene" in html
    assert len(ids(chart_in(html), "mark-withheld-")) == 1
    whats = list(
        AccessLog.objects.filter(patient_id=built.patient_id, username="nurse.oslo").values_list(
            "what", flat=True
        )
    )
    assert whats == ["record"]


def test_a_psychologist_reads_the_record_with_the_doses(built, web_as):
    html = web_as("psychologist.oslo").get(f"/patients/{built.patient_id}/").content.decode()

    assert "Doser de siste 28 dagene" in html


@pytest.mark.parametrize(
    ("username", "status"), [("researcher.oslo", 403), ("doctor.bergen", 404), ("nurse.oslo", 403)]
)
def test_only_a_doctor_of_the_clinic_opens_the_prescription_form(built, web_as, username, status):
    page = web_as(username).get(f"/prescribing/patients/{built.patient_id}/new/")

    assert page.status_code == status
    assert not AccessLog.objects.filter(patient_id=built.patient_id, what="dose history").exists()


def test_a_patient_not_dosed_and_not_prescribed_gets_a_sentence_not_a_chart(admitted, web_as):
    patient = admitted()["patient"]

    html = web_as("doctor.oslo").get(f"/prescribing/patients/{patient}/new/").content.decode()

    assert "Ingen doser registrert og ingenting forskrevet disse dagene." in html
    assert "data:image/svg+xml" not in html
