"""A render sets the objects alive before it aside from the cycle collector, and hands them back afterwards."""

from __future__ import annotations

import gc
import weakref

import pytest

from tracker.reports import pdf


def test_the_heap_is_frozen_while_inside_and_handed_back_after_the_outermost_exit():
    assert gc.get_freeze_count() == 0
    with pdf.frozen_heap():
        outer = gc.get_freeze_count()
        assert outer > 0
        with pdf.frozen_heap():
            assert gc.get_freeze_count() >= outer
        assert gc.get_freeze_count() >= outer  # the inner exit leaves the outer one's objects set aside
    assert gc.get_freeze_count() == 0


def test_the_heap_is_handed_back_when_the_render_fails():
    with pytest.raises(RuntimeError), pdf.frozen_heap():
        raise RuntimeError("render failed")
    assert gc.get_freeze_count() == 0


def test_garbage_made_before_a_render_is_kept_through_it_and_collected_after_it():
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cycle collector frees it
    alive = weakref.ref(a)
    del a, b
    with pdf.frozen_heap():
        gc.collect()
        assert alive() is not None  # set aside: the collector does not walk it during the render
    gc.collect()
    assert alive() is None
