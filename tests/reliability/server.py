"""gunicorn's entry point in the crash test: HAB as deployed (hab.wsgi), with the clock of
each request set by the client in the X-Test-Clock header (ISO 8601), so one load can
record doses session after session, day after day."""

from __future__ import annotations

import datetime

_application = None


def app(environ, start_response):
    global _application
    from hab.core import clock

    if _application is None:
        from hab.wsgi import application

        _application = application
    moment = environ.get("HTTP_X_TEST_CLOCK")
    if not moment:
        return _application(environ, start_response)
    with clock.at(datetime.datetime.fromisoformat(moment)):
        return _application(environ, start_response)
