"""A served app keeps what lives as long as the worker out of the cyclic collector's passes (tracker.heap): what its
first requests leave behind and still hold (compiled templates, cached statements) is frozen as they complete it,
and no garbage is frozen with it, since a frozen object is never collected."""

from __future__ import annotations

import gc
import weakref

import pytest

from tracker import STAGES, heap


class Node:
    """Something a page makes and drops in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def is_frozen(obj) -> bool:
    """Tracked by the collector but in none of the generations it walks."""
    return gc.is_tracked(obj) and all(o is not obj for o in gc.get_objects())


@pytest.fixture
def held_collector():
    """The collector runs only when asked (as in a long request's pauses it may not), and the heap is unfrozen after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()


def test_a_served_app_is_assembled_and_settled_again_at_its_scheduled_requests(app, held_collector):
    dropped, kept = [], []

    def page():
        node = Node()  # garbage once the response is made
        dropped.append(weakref.ref(node))
        kept.append(Node())  # lives as long as the worker, like a compiled template
        return "ok"

    app.add_url_rule("/_heap", "heap_page", page)
    app.wsgi_app = heap.Settling(app.wsgi_app, at={2, 3})
    heap.settle()
    client = app.test_client()

    frozen = []
    for _ in range(4):
        assert client.get("/_heap").status_code == 200
        frozen.append([is_frozen(n) for n in kept])

    # the 2nd request froze what the 1st kept, the 3rd what the 2nd kept; the 4th froze nothing
    assert frozen == [[False], [True, False], [True, True, False], [True, True, False, False]]
    # what the 1st and 2nd requests dropped was collected before the freeze, not frozen for good
    assert dropped[0]() is None and dropped[1]() is None
    # what the 4th dropped waits for the collector's next pass, like any garbage
    assert dropped[3]() is not None
    gc.collect()
    assert dropped[3]() is None
    assert all(isinstance(n, Node) for n in kept)


def test_serving_assembles_the_app_and_freezes_its_start_up_objects(app, held_collector):
    assert app.assembled == set()
    served = heap.serve(app)
    assert served is app
    assert app.assembled == set(STAGES)
    assert is_frozen(app) and is_frozen(app.url_map) and is_frozen(app.jinja_env)
    assert isinstance(app.wsgi_app, heap.Settling)
    assert heap.SETTLE_AT == {2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}


def test_the_settling_stops_after_its_last_scheduled_request():
    calls = []
    settling = heap.Settling(lambda environ, start_response: calls.append(1) or [b""], at={2})
    for _ in range(5):
        settling({}, None)
    assert len(calls) == 5
    assert settling.served == 2  # not counted any further: nothing is due
