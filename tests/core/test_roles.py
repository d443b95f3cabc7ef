"""Roles change only through HAB: one person proposes, a second approves or refuses.

Nobody proposes or approves a change to their own roles or approves their own proposal;
every proposal and decision stays in an append-only log; HAB has no superusers and the
administrator's rights in /admin/ come from the role.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, transaction

from hab.core import services
from hab.core.models import (
    ApiToken,
    Membership,
    RoleChangeDecision,
    RoleChangeProposal,
    SecurityEvent,
    User,
)
from hab.core.roles import Role
from tests.conftest import PASSWORD, Api

pytestmark = pytest.mark.django_db


def propose(api, username, role, kind="grant", reason="Dekker vakter fra januar", clinic="oslo"):
    return api.post(
        f"/clinics/{clinic}/role-proposals",
        {"username": username, "kind": kind, "role": role, "reason": reason},
    )


def decide(api, proposal_id, approved=True, note=""):
    return api.post(f"/role-proposals/{proposal_id}/decision", {"approved": approved, "note": note})


def roles_of(user: User, clinic="oslo") -> set[str]:
    return set(
        Membership.objects.filter(user=user, clinic__code=clinic).values_list("role", flat=True)
    )


def second_admin(clinics) -> User:
    return services.staff_create(
        username="admin2.oslo",
        password=PASSWORD,
        first_name="Andre",
        last_name="Admin",
        roles=[(clinics["oslo"], Role.ADMIN)],
    )


def test_a_role_is_granted_only_when_a_second_person_approves(api_as, staff):
    # given: the administrator proposes that the psychologist also works as coordinator
    proposed = propose(api_as("admin.oslo"), "psychologist.oslo", "coordinator")
    assert proposed.status_code == 201, proposed.content
    proposal = proposed.json()
    assert roles_of(staff["psychologist.oslo"]) == {"psychologist"}

    # when: the clinic lead approves it
    decided = decide(api_as("clinic_lead.oslo"), proposal["id"], note="OK fra ledergruppa")

    # then: the role is there, and the history says who did what
    assert decided.status_code == 201, decided.content
    assert roles_of(staff["psychologist.oslo"]) == {"psychologist", "coordinator"}
    page = api_as("admin.oslo").get("/clinics/oslo/roles").json()
    assert page["pending"] == []
    [done] = page["history"]
    assert (done["proposed_by"], done["username"], done["kind"], done["role"]) == (
        "admin.oslo",
        "psychologist.oslo",
        "grant",
        "coordinator",
    )
    assert done["decision"]["by"] == "clinic_lead.oslo" and done["decision"]["approved"]
    staff_roles = {row["username"]: row["roles"] for row in page["staff"]}
    assert sorted(staff_roles["psychologist.oslo"]) == ["Coordinator", "Psychologist"]


def test_a_refusal_changes_nothing(api_as, staff):
    proposal = propose(api_as("clinic_lead.oslo"), "nurse.oslo", "doctor").json()

    refused = decide(api_as("admin.oslo"), proposal["id"], approved=False, note="Ikke lege")

    assert refused.status_code == 201
    assert roles_of(staff["nurse.oslo"]) == {"nurse"}
    assert RoleChangeDecision.objects.get().approved is False


@pytest.mark.parametrize("who", ["admin.oslo", "clinic_lead.oslo"])
def test_nobody_proposes_a_change_to_their_own_roles(api_as, who):
    response = propose(api_as(who), who, "doctor")

    assert response.status_code == 403
    assert "own roles" in response.json()["detail"]
    assert not RoleChangeProposal.objects.exists()


def test_the_proposer_cannot_approve_their_own_proposal(api_as, staff):
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "coordinator").json()

    response = decide(api_as("admin.oslo"), proposal["id"])

    assert response.status_code == 403
    assert "second person" in response.json()["detail"]
    assert roles_of(staff["nurse.oslo"]) == {"nurse"}
    assert not RoleChangeDecision.objects.exists()


def test_the_person_concerned_cannot_approve_a_change_of_their_own_roles(api_as, staff, clinics):
    # Two administrators: one proposes removing the clinic lead's role; the lead may not
    # decide it, the second administrator may.
    second_admin(clinics)
    proposal = propose(
        api_as("admin.oslo"), "clinic_lead.oslo", "clinic_lead", kind="remove"
    ).json()

    by_lead = decide(api_as("clinic_lead.oslo"), proposal["id"])
    by_second = decide(api_as("admin2.oslo"), proposal["id"])

    assert by_lead.status_code == 403 and "own roles" in by_lead.json()["detail"]
    assert by_second.status_code == 201
    assert roles_of(staff["clinic_lead.oslo"]) == set()


def test_a_proposal_is_decided_once(api_as, clinics):
    second_admin(clinics)
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "coordinator").json()

    first = decide(api_as("clinic_lead.oslo"), proposal["id"], approved=False)
    again = decide(api_as("admin2.oslo"), proposal["id"], approved=True)

    assert (first.status_code, again.status_code) == (201, 409)
    assert RoleChangeDecision.objects.count() == 1


@pytest.mark.parametrize(
    ("username", "role", "kind", "field"),
    [
        ("nurse.oslo", "nurse", "grant", "role"),  # already held
        ("nurse.oslo", "doctor", "remove", "role"),  # not held
        ("nobody.oslo", "nurse", "grant", "username"),
        ("nurse.oslo", "king", "grant", "role"),
        ("nurse.oslo", "doctor", "promote", "kind"),
    ],
)
def test_impossible_proposals_are_refused_beside_the_field(api_as, username, role, kind, field):
    response = propose(api_as("admin.oslo"), username, role, kind=kind)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["detail"]] == [field]


def test_a_proposal_needs_a_reason(api_as):
    response = propose(api_as("admin.oslo"), "nurse.oslo", "doctor", reason="   ")

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "reason"


def test_one_open_proposal_per_person_and_role(api_as):
    first = propose(api_as("admin.oslo"), "nurse.oslo", "doctor")
    second = propose(api_as("clinic_lead.oslo"), "nurse.oslo", "doctor")

    assert first.status_code == 201
    assert second.status_code == 422
    assert "already waiting" in second.json()["detail"][0]["message"]


@pytest.mark.parametrize("role", [r for r in Role.values if r not in ("admin", "clinic_lead")])
def test_only_an_administrator_or_the_clinic_lead_proposes(api_as, role):
    api = api_as(f"{role}.oslo")

    proposed = propose(api, "nurse.oslo" if role != "nurse" else "doctor.oslo", "coordinator")
    listed = api.get("/clinics/oslo/roles")

    assert (proposed.status_code, listed.status_code) == (403, 403)


def test_another_clinics_roles_are_not_found(api_as):
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "doctor").json()
    bergen = api_as("admin.bergen")

    assert propose(bergen, "nurse.oslo", "doctor").status_code == 404
    assert bergen.get("/clinics/oslo/roles").status_code == 404
    assert decide(bergen, proposal["id"]).status_code == 404


def test_removing_a_role_revokes_the_persons_api_tokens(api_as, staff):
    coordinator = api_as("coordinator.oslo")
    assert coordinator.get("/me").status_code == 200
    proposal = propose(
        api_as("admin.oslo"), "coordinator.oslo", "coordinator", kind="remove"
    ).json()
    # Proposed is not removed: the token still works.
    assert coordinator.get("/me").status_code == 200

    decide(api_as("clinic_lead.oslo"), proposal["id"])

    assert coordinator.get("/me").status_code == 401
    assert not ApiToken.objects.filter(user=staff["coordinator.oslo"], revoked_at=None).exists()
    event = SecurityEvent.objects.get(user=staff["coordinator.oslo"], kind="token_revoked")
    assert event.details["why"] == "role removed" and event.details["by"] == "clinic_lead.oslo"


def test_a_granted_role_keeps_the_persons_tokens(api_as, staff):
    nurse = api_as("nurse.oslo")
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "coordinator").json()

    decide(api_as("clinic_lead.oslo"), proposal["id"])

    assert nurse.get("/me").status_code == 200


def test_the_calendar_dates_of_research_exports_are_granted_the_same_way(api_as, staff):
    researcher = staff["researcher.oslo"]
    assert not researcher.has_perm("research.export_dates")
    proposal = propose(api_as("admin.oslo"), "researcher.oslo", "research.export_dates").json()

    decide(api_as("clinic_lead.oslo"), proposal["id"])

    assert User.objects.get(pk=researcher.pk).has_perm("research.export_dates")
    page = api_as("admin.oslo").get("/clinics/oslo/roles").json()
    [row] = [r for r in page["staff"] if r["username"] == "researcher.oslo"]
    assert "Calendar dates in research exports" in row["roles"]


def test_an_approved_administrator_role_makes_staff_never_superuser(api_as, staff):
    proposal = propose(api_as("clinic_lead.oslo"), "coordinator.oslo", "admin").json()

    decide(api_as("admin.oslo"), proposal["id"])

    user = User.objects.get(username="coordinator.oslo")
    assert (user.is_staff, user.is_superuser) == (True, False)


def test_administrators_are_staff_but_never_superusers(staff):
    admin = staff["admin.oslo"]

    assert (admin.is_staff, admin.is_superuser) == (True, False)
    # Nothing comes implicitly: not the research dates, not the patients' data in /admin/.
    assert not admin.has_perm("research.export_dates")
    assert not admin.has_perm("stock.view_ledgerentry")
    assert admin.has_perm("core.change_clinic")
    assert not staff["nurse.oslo"].has_perm("core.change_clinic")


def test_the_database_refuses_a_superuser(clinics):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_superuser("root", "root@example.org", "pw-123456-long")


@pytest.mark.parametrize("model", [RoleChangeProposal, RoleChangeDecision])
def test_proposals_and_decisions_cannot_be_changed_or_deleted(api_as, model):
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "doctor").json()
    decide(api_as("clinic_lead.oslo"), proposal["id"], approved=False)

    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.update(at=model.objects.get().at)
    with pytest.raises(DatabaseError), transaction.atomic():
        model.objects.all().delete()
    assert model.objects.count() == 1


def test_the_bootstrap_command_gives_the_first_two_deciders_and_no_more(clinics):
    out = StringIO()

    call_command("bootstrap_role", "eva", clinic="oslo", role="admin", stdout=out)
    call_command("bootstrap_role", "tor", clinic="oslo", role="clinic_lead", stdout=out)
    with pytest.raises(CommandError, match="role page"):
        call_command("bootstrap_role", "ola", clinic="oslo", role="admin", stdout=out)

    eva = User.objects.get(username="eva")
    assert (eva.is_staff, eva.is_superuser, eva.has_usable_password()) == (True, False, False)
    assert "hab changepassword eva" in out.getvalue()
    assert not User.objects.filter(username="ola").exists()
    assert SecurityEvent.objects.filter(kind="role_bootstrap").count() == 2


def test_the_role_page_lists_pending_staff_and_history(web_as, api_as, staff):
    propose(api_as("admin.oslo"), "nurse.oslo", "doctor", reason="Ny turnuslege")
    client = web_as("clinic_lead.oslo")

    page = client.get("/clinic/roles/", headers={"Accept-Language": "en"})

    text = page.content.decode()
    assert page.status_code == 200
    assert "Ny turnuslege" in text and "Approve" in text
    assert "psychologist.oslo" in text  # the staff table
    assert web_as("nurse.oslo").get("/clinic/roles/").status_code == 403


def test_the_role_page_approves_with_a_second_person(web_as, api_as, staff):
    proposal = propose(api_as("admin.oslo"), "nurse.oslo", "coordinator").json()

    own = web_as("admin.oslo").post(
        f"/clinic/roles/{proposal['id']}/decide/", {"decision": "approve"}
    )
    assert roles_of(staff["nurse.oslo"]) == {"nurse"}
    approved = web_as("clinic_lead.oslo").post(
        f"/clinic/roles/{proposal['id']}/decide/", {"decision": "approve", "note": "Ja"}
    )

    assert own.status_code == approved.status_code == 302
    assert roles_of(staff["nurse.oslo"]) == {"nurse", "coordinator"}


def test_a_deactivated_user_cannot_be_given_a_role(api_as, staff):
    User.objects.filter(username="nurse.oslo").update(is_active=False)

    response = propose(api_as("admin.oslo"), "nurse.oslo", "doctor")

    assert response.status_code == 422


def test_api_token_is_needed(staff):
    assert Api().get("/clinics/oslo/roles").status_code == 401


def test_the_django_admin_gives_an_administrator_what_an_operator_needs(web_as, staff):
    client = web_as("admin.oslo")
    nurse = staff["nurse.oslo"]

    index = client.get("/admin/")
    user_page = client.get(f"/admin/core/user/{nurse.pk}/change/")

    assert index.status_code == 200
    for path in ("/admin/core/clinic/", "/admin/core/user/", "/admin/core/apitoken/"):
        assert client.get(path).status_code == 200, path
    assert user_page.status_code == 200
    # Roles are not set here, nor superuser status, groups or permissions.
    text = user_page.content.decode()
    for absent in ("membership", "is_superuser", "user_permissions", 'name="groups"'):
        assert absent not in text, absent
    # No access log, no patient data.
    assert client.get("/admin/core/accesslog/").status_code == 404
    assert client.get("/admin/patients/").status_code == 404
    assert web_as("nurse.oslo").get("/admin/").status_code == 302


def test_deactivating_in_the_admin_revokes_the_users_tokens(web_as, api_as, staff):
    nurse = api_as("nurse.oslo")
    user = staff["nurse.oslo"]
    client = web_as("admin.oslo")
    form = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": "",
        "hpr_number": "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "05.12.2026",
        "date_joined_1": "09:30:00",
    }  # is_active left out: unticked

    response = client.post(f"/admin/core/user/{user.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(pk=user.pk).is_active is False
    assert nurse.get("/me").status_code == 401
