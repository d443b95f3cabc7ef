"""Seams: the one way a lower app calls on a higher one.

The apps stand in layers (core at the bottom, demo at the top; ``pyproject.toml`` holds the
order, ``lint-imports`` checks it) and a module imports only from its own app or the ones
below. Some events belong to a lower app but must reach a higher one: a dose over the
limit opens an incident, a new episode starts the research follow-ups. The lower app
declares a ``Seam`` for the event, the higher app connects its function to it from its
``AppConfig.ready()``, and the lower app calls the seam as it would call the function.

A seam has exactly one receiver, and calling one that nobody connected fails loudly: a
breach that should open an incident must never pass unnoticed because an app was left out
of ``INSTALLED_APPS``. (Django's signals would call nobody and say nothing.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from django.core.exceptions import ImproperlyConfigured

P = ParamSpec("P")
R = TypeVar("R")


class Seam(Generic[P, R]):
    """An event of a lower app that one higher app answers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receiver: Callable[P, R] | None = None

    def connect(self, receiver: Callable[P, R]) -> Callable[P, R]:
        """Connect the higher app's function; a second, different receiver is refused."""
        if self._receiver is not None and self._receiver is not receiver:
            raise ImproperlyConfigured(f"The seam {self.name!r} is already connected.")
        self._receiver = receiver
        return receiver

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._receiver is None:
            raise ImproperlyConfigured(
                f"Nothing is connected to the seam {self.name!r}: is its app installed?"
            )
        return self._receiver(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Seam {self.name}>"
