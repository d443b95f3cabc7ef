"""The ledger in the admin: read-only. Entries, counts and discrepancies are written only
through HAB's services (and the database refuses changes); the admin can look, never edit
or delete."""

from django.contrib import admin

from hab.stock.models import Batch, LedgerEntry, Product, StockCount


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(ReadOnly):
    list_display = [
        "name",
        "code",
        "clinic",
        "medication",
        "form",
        "concentration_mg_per_ml",
        "fest_dose_id",
        "fest_lmr_number",
        "fest_item_number",
    ]
    list_filter = ["clinic"]


@admin.register(Batch)
class BatchAdmin(ReadOnly):
    list_display = ["lot", "product", "expires_on", "created_at"]
    list_filter = ["product__clinic"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnly):
    list_display = ["seq", "clinic", "at", "kind", "product", "batch", "quantity_mg", "balance_mg"]
    list_filter = ["clinic", "kind"]
    list_select_related = ["clinic", "product", "batch"]
    # Doses point at administrations; no patient is named here.
    exclude = ["administration"]


@admin.register(StockCount)
class StockCountAdmin(ReadOnly):
    list_display = ["counted_at", "clinic", "batch", "counted_mg", "book_mg", "difference_mg"]
    list_filter = ["clinic"]
