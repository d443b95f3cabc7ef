"""The controlled-drug ledger's pages: balances, the ledger and its PDF extract, and the
forms for receipts, witnessed waste, two-person counts, transfers and adjustments."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hab.core import clock, policy
from hab.core.errors import NotFound
from hab.core.formats import mg_text
from hab.core.policy import Action, clinic_for_action
from hab.core.web import current_clinic, form_page, staff_view, web_actor
from hab.prescribing.selectors import protocol_in_force
from hab.stock import selectors, services
from hab.stock.forms import (
    AdjustmentForm,
    CountForm,
    LedgerFilterForm,
    ProductForm,
    ReceiptForm,
    ResolveForm,
    TransferForm,
    WasteForm,
)
from hab.stock.models import Discrepancy, LedgerHead, Product

LEDGER_PAGE = 100


def _clinic(request: HttpRequest, action: Action):
    return clinic_for_action(request.user, current_clinic(request), action)


def _lines(clinic, with_empty: bool = False):
    protocol = protocol_in_force(clinic.pk)
    hours = protocol.stock_count_hours if protocol else 8
    return selectors.balances(clinic.pk, count_hours=hours, with_empty=with_empty), hours


def _overview() -> str:
    return reverse("stock:overview")


@staff_view
def overview(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_VIEW)
    lines, hours = _lines(clinic)
    can = {
        name: policy.can(request.user, action, clinic)
        for name, action in [
            ("receive", Action.STOCK_RECEIVE),
            ("waste", Action.STOCK_WASTE),
            ("count", Action.STOCK_COUNT),
            ("transfer", Action.STOCK_TRANSFER),
            ("adjust", Action.STOCK_ADJUST),
            ("manage", Action.STOCK_MANAGE),
        ]
    }
    return render(
        request,
        "stock/overview.html",
        {
            "clinic": clinic,
            "lines": lines,
            "count_hours": hours,
            "counts_due": sum(1 for line in lines if line.count_due),
            "expiring": sum(1 for line in lines if line.expired or line.expires_soon),
            "discrepancies": selectors.open_discrepancies(clinic.pk),
            "counts": selectors.recent_counts(clinic.pk, limit=10),
            "has_products": Product.objects.filter(clinic=clinic).exists(),
            "can": can,
        },
    )


def _filtered(request: HttpRequest, clinic):
    form = LedgerFilterForm(request.GET or None, clinic=clinic)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.ledger(
        clinic.pk,
        start=filters.get("date_from"),
        end=filters.get("date_to"),
        kind=filters.get("kind", ""),
        username=filters.get("user", ""),
        product=filters.get("product", ""),
    )
    return form, filters, entries


@staff_view
def ledger(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_VIEW)
    form, _filters, entries = _filtered(request, clinic)
    page = Paginator(entries, LEDGER_PAGE).get_page(request.GET.get("page"))
    # A dose's session by the clinic's name for it ("Formiddag"), not its code.
    slot_names = dict(clinic.slots.values_list("code", "name"))
    for entry in page:
        if entry.administration_id:
            entry.slot_name = slot_names.get(entry.administration.slot, entry.administration.slot)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "stock/ledger.html",
        {"clinic": clinic, "form": form, "page": page, "query": query.urlencode()},
    )


@staff_view
def ledger_pdf(request: HttpRequest) -> HttpResponse:
    """A printable extract of the ledger for an inspector: the chosen period, with the
    balances and the chain's head hash, so a later change to the book can be proven."""
    from weasyprint import HTML

    clinic = _clinic(request, Action.STOCK_VIEW)
    _form, filters, entries = _filtered(request, clinic)
    head = LedgerHead.objects.filter(clinic=clinic).first()
    html = render_to_string(
        "stock/ledger_pdf.html",
        {
            "clinic": clinic,
            "rows": selectors.extract(entries),
            "filters": filters,
            "lines": _lines(clinic, with_empty=True)[0],
            "verified": services.verify(clinic),
            "head": head,
            "printed_at": clock.now(),
            "printed_by": request.user,
        },
        request=request,
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    name = f"narkotikaregnskap-{clinic.code}-{clock.today():%Y%m%d}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


def _batch_lines(clinic):
    return _lines(clinic)[0]


def _initial_batch(request: HttpRequest) -> dict:
    return {"batch": request.GET["batch"]} if request.GET.get("batch") else {}


@staff_view
def receipt(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_RECEIVE)
    actor = web_actor(request)
    form = ReceiptForm(request.POST or None, clinic=clinic)

    def save(data: dict) -> HttpResponse:
        entry = services.receipt_record(
            actor=actor,
            clinic=clinic,
            product=data["product"],
            batch=data["batch"],
            quantity_mg=data["quantity_mg"],
            expires_on=data["expires_on"],
            reference=data["reference"],
        )
        messages.success(
            request,
            _("Received %(mg)s mg of %(product)s, batch %(lot)s.")
            % {"mg": mg_text(entry.quantity_mg), "product": entry.product, "lot": entry.batch.lot},
        )
        return redirect(_overview())

    return form_page(request, form, title=_("Receive stock"), cancel_url=_overview(), save=save)


@staff_view
def waste(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_WASTE)
    actor = web_actor(request)
    initial = _initial_batch(request) | _rest_of(request, clinic)
    form = WasteForm(
        request.POST or None,
        initial=initial,
        clinic=clinic,
        lines=_batch_lines(clinic),
        user=request.user,
    )

    def save(data: dict) -> HttpResponse:
        batch = form.chosen()
        entry = services.waste_record(
            actor=actor,
            clinic=clinic,
            product=batch.product.code,
            batch=batch.lot,
            quantity_mg=data["quantity_mg"],
            witness=data["witness"],
            witness_password=data["witness_password"],
            reason=data["reason"],
        )
        messages.success(
            request,
            _("Waste of %(mg)s mg recorded, witnessed by %(witness)s.")
            % {"mg": mg_text(-entry.quantity_mg), "witness": entry.witness},
        )
        return redirect(_overview())

    return form_page(
        request,
        form,
        title=_("Record waste"),
        intro=_("Waste is always witnessed by a second person, who confirms with a password."),
        cancel_url=_overview(),
        save=save,
    )


def _rest_of(request: HttpRequest, clinic) -> dict:
    """The waste form opened after a partial dose: the rest of the drawn dose, from the
    batch the dose was debited from."""
    from hab.stock.models import Kind, LedgerEntry

    # The dose is the one a ledger entry points at: reached through the ledger's own
    # relation, so stock (below dosing) does not import the dosing app.
    Administration = LedgerEntry._meta.get_field("administration").related_model
    if not request.GET.get("rest_of", "").isdigit():
        return {}
    dose = Administration.objects.filter(
        pk=int(request.GET["rest_of"]), clinic=clinic, status="partial"
    ).first()
    if dose is None or dose.prescribed_mg <= dose.dose_mg:
        return {}
    debit = LedgerEntry.objects.filter(administration=dose, kind=Kind.ADMINISTRATION).first()
    initial = {
        "quantity_mg": dose.prescribed_mg - dose.dose_mg,
        "reason": _("Rest of a partial dose (dose #%(id)s)") % {"id": dose.pk},
    }
    if debit is not None:
        initial["batch"] = str(debit.batch_id)
    return initial


@staff_view
def count(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_COUNT)
    actor = web_actor(request)
    form = CountForm(
        request.POST or None,
        initial=_initial_batch(request),
        clinic=clinic,
        lines=_batch_lines(clinic),
        user=request.user,
    )

    def save(data: dict) -> HttpResponse:
        batch = form.chosen()
        counted = services.count_record(
            actor=actor,
            clinic=clinic,
            product=batch.product.code,
            batch=batch.lot,
            counted_mg=data["counted_mg"],
            witness=data["witness"],
            witness_password=data["witness_password"],
            note=data["note"],
        )
        c = counted.count
        if counted.discrepancy:
            messages.error(
                request,
                _(
                    "The count differs from the book by %(diff)s mg (counted %(counted)s, "
                    "book %(book)s). A discrepancy is opened for the clinic lead."
                )
                % {
                    "diff": mg_text(c.difference_mg),
                    "counted": mg_text(c.counted_mg),
                    "book": mg_text(c.book_mg),
                },
            )
        else:
            messages.success(request, _("The count matches the book."))
        return redirect(_overview())

    return form_page(
        request,
        form,
        title=_("Count stock"),
        intro=_(
            "Two people count together. The book balance is compared when you save, "
            "so doses given meanwhile are included."
        ),
        cancel_url=_overview(),
        save=save,
    )


@staff_view
def transfer(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_TRANSFER)
    actor = web_actor(request)
    form = TransferForm(
        request.POST or None,
        initial=_initial_batch(request),
        clinic=clinic,
        lines=_batch_lines(clinic),
    )

    def save(data: dict) -> HttpResponse:
        batch = form.chosen()
        services.transfer_record(
            actor=actor,
            clinic=clinic,
            to_clinic=data["to_clinic"],
            product=batch.product.code,
            batch=batch.lot,
            quantity_mg=data["quantity_mg"],
            reason=data["reason"],
        )
        messages.success(request, _("The transfer is recorded in both clinics' ledgers."))
        return redirect(_overview())

    return form_page(
        request, form, title=_("Transfer to another clinic"), cancel_url=_overview(), save=save
    )


@staff_view
def adjustment(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_ADJUST)
    actor = web_actor(request)
    form = AdjustmentForm(
        request.POST or None,
        initial=_initial_batch(request),
        clinic=clinic,
        lines=_lines(clinic, with_empty=True)[0],
    )

    def save(data: dict) -> HttpResponse:
        batch = form.chosen()
        services.adjustment_record(
            actor=actor,
            clinic=clinic,
            product=batch.product.code,
            batch=batch.lot,
            quantity_mg=data["quantity_mg"],
            reason=data["reason"],
        )
        messages.success(request, _("The book is adjusted."))
        return redirect(_overview())

    return form_page(
        request,
        form,
        title=_("Adjust the book"),
        intro=_("An adjustment is a new entry with your name and reason; nothing is changed."),
        cancel_url=_overview(),
        save=save,
    )


@staff_view
def resolve(request: HttpRequest, discrepancy_id: int) -> HttpResponse:
    discrepancy = (
        Discrepancy.objects.select_related("count__batch__product", "clinic")
        .filter(pk=discrepancy_id)
        .first()
    )
    if discrepancy is None or not policy.is_member(request.user, discrepancy.clinic_id):
        raise NotFound(_("No such discrepancy."))
    clinic_for_action(request.user, discrepancy.clinic, Action.STOCK_MANAGE)
    actor = web_actor(request)
    form = ResolveForm(request.POST or None)
    c = discrepancy.count

    def save(data: dict) -> HttpResponse:
        services.discrepancy_resolve(
            actor=actor,
            discrepancy_id=discrepancy.pk,
            explanation=data["explanation"],
            adjust=data["adjust"],
        )
        messages.success(request, _("The discrepancy is resolved."))
        return redirect(_overview())

    return form_page(
        request,
        form,
        title=_("Resolve a stock discrepancy"),
        intro=_(
            "%(product)s, batch %(lot)s: counted %(counted)s mg, book %(book)s mg, "
            "difference %(diff)s mg (%(when)s, %(who)s)."
        )
        % {
            "product": c.batch.product,
            "lot": c.batch.lot,
            "counted": mg_text(c.counted_mg),
            "book": mg_text(c.book_mg),
            "diff": mg_text(c.difference_mg),
            "when": f"{timezone.localtime(c.counted_at):%d.%m.%Y %H:%M}",
            "who": c.counted_by,
        },
        cancel_url=_overview(),
        save=save,
    )


@staff_view
def products(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_MANAGE)
    actor = web_actor(request)
    form = ProductForm(request.POST or None)

    def save(data: dict) -> HttpResponse:
        services.product_create(actor=actor, clinic=clinic, **data)
        messages.success(request, _("The product is added."))
        return redirect(reverse("stock:products"))

    return form_page(
        request,
        form,
        title=_("Add a product"),
        cancel_url=_overview(),
        save=save,
        template="stock/products.html",
        # With their FEST ids: a report to Legemiddelregisteret names a product by them.
        extra={"products": Product.objects.filter(clinic=clinic).order_by("name")},
    )


@staff_view
def verify(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request, Action.STOCK_MANAGE)
    result = services.verify(clinic)
    broken = None
    if result.broken:
        broken = {
            "seq": result.broken.seq,
            "problem": services.PROBLEMS[result.broken.problem],
        }
    return render(
        request,
        "stock/verify.html",
        {"clinic": clinic, "result": result, "broken": broken, "checked_at": clock.now()},
    )
