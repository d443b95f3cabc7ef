"""The export's file as a download, for the page and the API alike."""

from __future__ import annotations

from django.http import FileResponse

from .log import Exported


def download(made: Exported) -> FileResponse:
    """Streams the file as an attachment and removes it from disk: the open handle keeps
    the data until the response is sent."""
    response = FileResponse(
        made.path.open("rb"),
        as_attachment=True,
        filename=made.filename,
        content_type=made.content_type,
    )
    made.path.unlink()
    return response
