"""A report is built and rendered with the cycle collector's full passes held back, and the thresholds are restored
after: each full pass during a render walked the whole application (tracker/reports/pdf.py)."""

from __future__ import annotations

import gc
import threading

import pytest

from tracker.reports import pdf
from tracker.reports import service as reports


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_the_full_pass_waits_while_rendering_and_the_thresholds_come_back_after(thresholds):
    with pdf.fewer_full_collections():
        assert gc.get_threshold() == (700, 10, pdf.FULL_PASS_AFTER)
        with pdf.fewer_full_collections():  # nested: the outer one restores
            assert gc.get_threshold() == (700, 10, pdf.FULL_PASS_AFTER)
        assert gc.get_threshold() == (700, 10, pdf.FULL_PASS_AFTER)
    assert gc.get_threshold() == (700, 10, 10)
    with pytest.raises(ZeroDivisionError), pdf.fewer_full_collections():
        1 / 0  # noqa: B018
    assert gc.get_threshold() == (700, 10, 10)
    gc.set_threshold(500, 20, 5000)  # a process that set its own: kept inside, restored after
    with pdf.fewer_full_collections():
        assert gc.get_threshold() == (500, 20, 5000)
    assert gc.get_threshold() == (500, 20, 5000)


def test_threads_rendering_at_once_restore_the_thresholds_when_the_last_leaves(thresholds):
    entered, release = threading.Barrier(2), threading.Event()
    seen = []

    def render():
        with pdf.fewer_full_collections():
            entered.wait(10)
            release.wait(10)
        seen.append(gc.get_threshold())

    first = threading.Thread(target=render)
    first.start()
    with pdf.fewer_full_collections():
        entered.wait(10)
        release.set()
        first.join(10)
        # the thread left first: the render still running here keeps the full pass waiting
        assert seen == [(700, 10, pdf.FULL_PASS_AFTER)]
    assert gc.get_threshold() == (700, 10, 10)


def test_the_report_commands_hold_the_full_pass_back_and_the_apps_renders_do_not(thresholds, app, monkeypatch):
    during = []

    def fails(*_args, **_kwargs):
        during.append(gc.get_threshold()[2])
        raise RuntimeError("stop here")

    monkeypatch.setattr(pdf, "require_cjk_font", fails)
    with pytest.raises(RuntimeError, match="stop here"):
        pdf.render_pdf("<p>x</p>", app.static_folder)  # a page's or the archive job's render
    monkeypatch.setattr(reports, "briefing_data", fails)
    result = app.test_cli_runner().invoke(args=["report", "briefing", "--period", "2026-Q3", "-o", "/dev/null"])
    assert isinstance(result.exception, RuntimeError)
    assert during == [10, pdf.FULL_PASS_AFTER]
    assert gc.get_threshold() == (700, 10, 10)


def test_a_report_command_sets_its_objects_aside_from_the_collectors_passes_at_exit(app, monkeypatch):
    registered = []
    monkeypatch.setattr(pdf, "_frozen_at_exit", False)
    monkeypatch.setattr(pdf.atexit, "register", registered.append)
    runner = app.test_cli_runner()
    assert "briefing" in runner.invoke(args=["report", "--help"]).output
    assert registered == []  # a help runs nothing
    monkeypatch.setattr(reports, "briefing_data", lambda *_args: 1 / 0)
    for _ in range(2):
        result = runner.invoke(args=["report", "briefing", "--period", "2026-Q3", "-o", "/dev/null"])
        assert isinstance(result.exception, ZeroDivisionError)
    assert registered == [gc.freeze]  # once per process


def test_a_report_command_holds_the_collector_off_until_it_renders_and_gives_it_back(app, monkeypatch):
    """Until the render the collector does not run (what the command made lives until it ends); the render runs with
    it on and what was made before set aside; after the command, succeeded or failed, it is as it was."""
    seen = []

    def data(*_args, **_kwargs):
        seen.append(("data", gc.isenabled(), gc.get_freeze_count() > 0))
        return object()

    def to_pdf(*_args, **_kwargs):
        seen.append(("render", gc.isenabled(), gc.get_freeze_count() > 0))
        return b"%PDF-1.7 x"

    monkeypatch.setattr(reports, "briefing_data", data)
    monkeypatch.setattr(reports, "to_pdf", to_pdf)
    assert gc.isenabled() and gc.get_freeze_count() == 0
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "briefing", "--period", "2026-Q3", "-o", "/dev/null"])
    assert result.exit_code == 0, result.output
    assert seen == [("data", False, False), ("render", True, True)]
    assert gc.isenabled() and gc.get_freeze_count() == 0

    monkeypatch.setattr(reports, "briefing_data", lambda *_args: 1 / 0)  # fails before it renders
    result = runner.invoke(args=["report", "briefing", "--period", "2026-Q3", "-o", "/dev/null"])
    assert isinstance(result.exception, ZeroDivisionError)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_process_with_the_collector_off_keeps_it_off_through_a_report_command(app, monkeypatch):
    monkeypatch.setattr(reports, "briefing_data", lambda *_args: object())
    monkeypatch.setattr(reports, "to_pdf", lambda *_args: b"%PDF-1.7 x")
    gc.disable()
    try:
        result = app.test_cli_runner().invoke(args=["report", "briefing", "--period", "2026-Q3", "-o", "/dev/null"])
        assert result.exit_code == 0, result.output
        assert not gc.isenabled() and gc.get_freeze_count() == 0
    finally:
        gc.enable()
