"""The dosing room's fixtures, for the tests of what prescriptions do there: a clinic
protocol in force, a patient on a prescription with days of doses, the afternoon clock."""

from tests.dosing.conftest import afternoon, on_prescription, protocols  # noqa: F401
