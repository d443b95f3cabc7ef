"""The stop-dose hold in the pure dose decision: nothing may be given while it lasts."""

from __future__ import annotations

from tests.dosing.rule_helpers import BLOCK, DAY, dose, rx, stable_history
from tests.dosing.rule_helpers import decide as decide_with


def test_a_hold_blocks_a_dose_that_would_otherwise_be_due():
    history = stable_history()

    free = decide_with(history)
    held = decide_with(history, hold="Mistanke om sidebruk")

    assert not free.blocked and free.max_mg == 200
    assert held.blocked and held.max_mg == 0
    assert [(r.code, r.severity, r.params["reason"]) for r in held.blocks] == [
        ("hold", BLOCK, "Mistanke om sidebruk")
    ]


def test_a_hold_is_listed_beside_the_other_blocks():
    # The morning dose given at 14:00: the interval blocks too, and both are shown.
    history = [*stable_history(), dose(DAY, 14, 200)]

    decision = decide_with(history, hold="Innlagt")

    assert {r.code for r in decision.blocks} == {"hold", "interval"}


def test_a_hold_blocks_the_first_days_top_up_too():
    first = dose(DAY, 14, 15, slot="afternoon")
    prescription = rx(dose=15, daily=100)

    free = decide_with([first], prescription=prescription, top_up=True)
    held = decide_with([first], prescription=prescription, top_up=True, hold="Stopp")

    assert not free.blocked
    assert held.blocked and "hold" in {r.code for r in held.blocks}


def test_the_recorded_session_is_reported_as_recorded_not_held():
    history = [*stable_history(), dose(DAY, 15, 200, slot="afternoon")]

    decision = decide_with(history, hold="Stopp")

    assert [r.code for r in decision.blocks] == ["already_recorded"]
