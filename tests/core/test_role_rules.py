"""The two-person rule for role changes, as pure functions."""

from __future__ import annotations

import pytest

from hab.core.rules import RoleChangeProblem, role_decision_problem, role_proposal_problem

ME, OTHER, THIRD = 1, 2, 3


@pytest.mark.parametrize(
    ("person", "grant", "holds", "pending", "problem"),
    [
        (ME, True, False, False, RoleChangeProblem.OWN_ROLES),
        (ME, False, True, False, RoleChangeProblem.OWN_ROLES),
        (OTHER, True, True, False, RoleChangeProblem.ALREADY_HELD),
        (OTHER, False, False, False, RoleChangeProblem.NOT_HELD),
        (OTHER, True, False, True, RoleChangeProblem.PENDING),
        (OTHER, True, False, False, None),
        (OTHER, False, True, False, None),
    ],
)
def test_who_may_propose_what(person, grant, holds, pending, problem):
    found = role_proposal_problem(
        proposer=ME, person=person, grant=grant, holds=holds, pending=pending
    )

    assert found == problem


@pytest.mark.parametrize(
    ("decider", "decided", "problem"),
    [
        (OTHER, False, RoleChangeProblem.OWN_ROLES),  # the person concerned
        (ME, False, RoleChangeProblem.OWN_PROPOSAL),  # the one who proposed
        (THIRD, True, RoleChangeProblem.DECIDED),
        (THIRD, False, None),  # a second person
    ],
)
def test_who_may_decide(decider, decided, problem):
    assert role_decision_problem(decider=decider, proposer=ME, person=OTHER, decided=decided) == (
        problem
    )
