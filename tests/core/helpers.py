"""Helpers the core tests share."""

from __future__ import annotations

import os
from pathlib import Path


def hab_environment(data_dir: Path) -> dict[str, str]:
    """This process's environment less the test settings: HAB's own settings on a data
    dir of its own (a fresh SQLite file there)."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HAB_", "DJANGO_")) and key != "PYTHONPATH"
    } | {
        "HAB_DATA_DIR": str(data_dir),
        "HAB_ALLOW_SYNTHETIC_IDS": "1",
        "DJANGO_SETTINGS_MODULE": "hab.settings",
    }
