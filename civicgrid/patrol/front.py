"""The plain OsmAnd fix, answered in front of Django's request handling (WSGI).

Every phone on duty sends Traccar Client's ``GET /osmand/?id=…&lat=…`` every few seconds:
at a township's scale the busiest request there is. Django's handler costs such a request
as much again as storing the fix (the request object, the request signals, the middleware
chain, the response object), and none of it changes the answer in the plain case: a
registered phone whose owner's open shift covers the fix, stored by one statement.

``OsmandFront`` wraps the WSGI application (``config/wsgi.py``). It answers that case
itself, 200 with an empty body as the view does, and hands everything else to Django
untouched: a POST or a JSON body, a message it cannot decode, one without a fix, an unknown
phone, no open shift, a database error. Django then decides and explains as before (the
view, ``services.osmand_fix_record``). It hands a request on only when its statement stored
nothing, so nothing is stored twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils import timezone

from civicgrid.patrol import services
from civicgrid.patrol.osmand import decode_params, query_params

OSMAND_PATH = "/osmand/"
# What Django answers for the stored fix (``HttpResponse(status=200)`` before any middleware
# that adds headers: the OsmAnd path skips them there too).
STORED_HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", "0")]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger(__name__)


class OsmandFront:
    """WSGI middleware: stores the plain OsmAnd fix, passes every other request on."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("PATH_INFO") == OSMAND_PATH
            and environ.get("REQUEST_METHOD") == "GET"
            and stored_plain(environ.get("QUERY_STRING", ""))
        ):
            start_response("200 OK", STORED_HEADERS)
            return [b""]
        return self.app(environ, start_response)


def stored_plain(query_string: str) -> bool:
    """Store the fix of a GET's query string if it is the plain case; whether it did."""
    try:
        # WSGI hands the query string over as latin-1 text; phones send UTF-8.
        text = query_string.encode("latin-1").decode("utf-8")
        params = query_params(text, max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
        message = decode_params(params)
    except ValueError:  # not UTF-8, too many fields, not decodable (ProtocolError)
        return False  # Django's view answers the refusal, in the phone's language
    if message is None or message.fix is None:
        return False
    db = connections[DEFAULT_DB_ALIAS]
    # What Django's request_started and request_finished signals do for a connection:
    # replace one that broke or outlived CONN_MAX_AGE (and arm its health check) before,
    # close one that is not to be kept after. A test's transaction is not the front's to end.
    ours = not db.in_atomic_block
    if ours:
        db.close_if_unusable_or_obsolete()
    try:
        stored = services.osmand_fix_plain(
            identifier=message.device, fix=message.fix, now=timezone.now()
        )
    except DatabaseError:
        # The statement failed, so it stored nothing: Django's handler retries the fix the
        # general way (and replaces the connection if it is broken) or answers the error.
        logger.warning("OsmAnd fix not stored in front of Django", exc_info=True)
        return False
    finally:
        if ours:
            db.close_if_unusable_or_obsolete()
    return stored is not None
