from django.urls import path

from hab.stock import views

app_name = "stock"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger.pdf", views.ledger_pdf, name="ledger-pdf"),
    path("receipt/", views.receipt, name="receipt"),
    path("waste/", views.waste, name="waste"),
    path("count/", views.count, name="count"),
    path("transfer/", views.transfer, name="transfer"),
    path("adjustment/", views.adjustment, name="adjustment"),
    path("discrepancies/<int:discrepancy_id>/", views.resolve, name="resolve"),
    path("products/", views.products, name="products"),
    path("verify/", views.verify, name="verify"),
]
