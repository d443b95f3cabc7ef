"""Helpers the patient registry's tests share."""

from __future__ import annotations

import io

from PIL import Image


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 120, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = png()
