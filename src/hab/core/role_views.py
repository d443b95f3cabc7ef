"""The clinic's roles: proposals, a second person's decision, the staff and the history;
and each user's own API tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from hab.core import selectors, services
from hab.core.errors import Conflict, Forbidden, Invalid
from hab.core.models import RoleChangeKind
from hab.core.roles import RoleOrGrant
from hab.core.web import add_errors, current_clinic, staff_view


class ProposalForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("User name"), max_length=150)
    kind = forms.ChoiceField(
        label=gettext_lazy("Change"), choices=RoleChangeKind.choices, widget=forms.RadioSelect
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=RoleOrGrant.choices)
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=300,
        help_text=gettext_lazy("Why the change is needed. A second person decides."),
    )


class DecisionForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


@never_cache
@staff_view
def clinic_roles(request: HttpRequest) -> HttpResponse:
    clinic = current_clinic(request)
    page = selectors.role_changes_for(request.user, clinic)
    form = ProposalForm(request.POST or None, initial={"kind": RoleChangeKind.GRANT})
    if request.method == "POST" and form.is_valid():
        try:
            services.role_change_propose(by=request.user, clinic=clinic, **form.cleaned_data)
        except Invalid as error:
            add_errors(form, error)
        except Forbidden as error:
            form.add_error("username", error.message)
        else:
            messages.success(request, _("The proposal is saved. A second person decides it."))
            return redirect("clinic-roles")
    return render(request, "core/roles.html", {"page": page, "form": form, "me": request.user})


@require_POST
@staff_view
def clinic_role_decide(request: HttpRequest, proposal_id: int) -> HttpResponse:
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    approved = request.POST.get("decision") == "approve"
    try:
        services.role_change_decide(
            by=request.user,
            proposal_id=proposal_id,
            approved=approved,
            note=note,
            request=request,
        )
    except (Forbidden, Conflict) as error:
        messages.error(request, error.message)
    except Invalid as error:
        messages.error(request, error.errors[0].message)
    else:
        messages.success(
            request,
            _("Approved: the role is changed.") if approved else _("Refused: nothing changed."),
        )
    return redirect("clinic-roles")


@never_cache
@staff_view
def my_tokens(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        token_id = request.POST.get("token", "")
        if token_id.isdigit():
            services.token_revoke_own(user=request.user, token_id=int(token_id), request=request)
            messages.success(request, _("The token is revoked."))
        return redirect("my-tokens")
    return render(
        request,
        "core/my_tokens.html",
        {
            "tokens": selectors.tokens_of(request.user),
            "hours": int(services.token_lifetime().total_seconds() // 3600),
        },
    )
