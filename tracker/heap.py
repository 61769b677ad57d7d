"""A serving process's heap: what lives as long as the worker is kept out of the cyclic collector's passes.

A page makes tens of thousands of short-lived objects (rows, ORM instances, strings), so the collector runs
about fifteen times per page, and now and then a full pass walks every object the process holds. Most of those are
the app itself: models, mappers, URL rules, compiled templates, cached SQL. They live as long as the worker, so
walking them finds nothing. `gc.freeze()` moves what exists into a generation the collector never walks.

Part of the app only exists after pages have been served: each page's compiled templates, its cached statements,
the mappers' loaders. So a server freezes twice over:
- once when the worker starts, after the app is fully assembled;
- again at the start of its 2nd, 4th, 8th … 1024th request, after a full collection, so that what the earlier
  requests left behind and still holds is frozen as well.

The collection first means no garbage is frozen. A frozen object is never collected, so only a serving process
freezes: the app factory does not, because a test or a script makes many apps in one process and drops them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable

# the requests at whose start the heap is settled again: what the requests before them left is kept for good
SETTLE_AT = frozenset(2**n for n in range(1, 11))


class Settling:
    """WSGI middleware: count the requests this process serves, and settle the heap at the start of those in `at`.

    gunicorn's sync workers serve one request at a time, so nothing of another request is alive then. Under a
    threaded server a request still running would have what it holds frozen: a bounded amount, at most ten times."""

    def __init__(self, wsgi_app: Callable, at: Iterable[int] = SETTLE_AT) -> None:
        self.wsgi_app = wsgi_app
        self.at = frozenset(at)
        self.last = max(self.at, default=0)
        self.served = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self.served < self.last:
            with self._lock:
                self.served += 1
                due = self.served in self.at
            if due:
                settle()
        return self.wsgi_app(environ, start_response)


def settle() -> None:
    """Collect what is garbage now, then freeze everything left."""
    gc.collect()
    gc.freeze()


def serve(app):
    """Make `app` ready to serve from this process: assembled in full now (not in its first request), its heap
    settled, and settled again as its first requests complete it. Gives the app."""
    app.assemble()
    settle()
    app.wsgi_app = Settling(app.wsgi_app)
    return app
