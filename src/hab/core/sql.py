"""Helpers for the few reads done in plain SQL (the dosing board's hot paths)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def among(column: str, ids: Iterable[int]) -> tuple[str, list]:
    """``column`` is one of ``ids``: the condition and its parameters. One array parameter
    on PostgreSQL (its driver would otherwise spell out hundreds of them), a list of
    parameters on SQLite."""
    ids = list(ids)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [ids]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids
