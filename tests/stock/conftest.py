"""Helpers for the stock tests (their fixtures are shared from tests/fixtures/stock.py)."""

from __future__ import annotations


def balance_of(api, clinic="oslo", product="dam-inj", batch="A1") -> float | None:
    rows = api.get("/stock/balance", {"clinic": clinic, "include_empty": "true"}).json()
    for row in rows:
        if row["product"] == product and row["batch"] == batch:
            return row["balance_mg"]
    return None
