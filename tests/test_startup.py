"""A command starts without the heavy libraries: WeasyPrint, openpyxl and python-docx are imported by the code that
renders a PDF, reads or writes a spreadsheet or writes a Word file, not by `flask --app tracker …` before it does
anything (WeasyPrint alone cost about a second of CPU at every start); nor Huey, redis or psycopg, which only the
queue's first use and the first request need. No timing: which modules a start imports, and how many."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask import render_template, render_template_string, url_for
from jinja2 import FileSystemLoader
from limits.errors import ConfigurationError
from sqlalchemy import text

from tracker import create_app, db, jobs, templating

from . import compiled_once

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("weasyprint", "openpyxl", "docx", "fontTools", "PIL", "pillow_heif")

# run the flask command line in-process, then say which of the modules asked about it imported, and how many in all
PROBE = """
import os, sys, runpy
sys.argv = ["flask", *sys.argv[1:]]
try:
    runpy.run_module("flask", run_name="__main__")
except SystemExit:
    pass
asked = os.environ["PROBE_MODULES"].split(",")
print("IMPORTED:" + ",".join(m for m in asked if m in sys.modules), file=sys.stderr)
print(f"COUNT:{len(sys.modules)}", file=sys.stderr)
"""


def _run(tmp_path: Path, args: tuple[str, ...], modules: tuple[str, ...], env: dict | None) -> tuple[str, str]:
    env = {
        **os.environ,
        "TRACKER_INSTANCE_PATH": str(tmp_path),
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "PYTHONPATH": str(ROOT),
        "PROBE_MODULES": ",".join(modules),
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, "--app", "tracker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.stdout, proc.stderr


def _probed(stderr: str, prefix: str) -> str:
    line = [x for x in stderr.splitlines() if x.startswith(prefix)]
    assert line, stderr
    return line[-1].removeprefix(prefix)


def _imported(tmp_path: Path, *args: str, modules=HEAVY, env: dict | None = None) -> tuple[list[str], str]:
    out, err = _run(tmp_path, args, modules, env)
    return [m for m in _probed(err, "IMPORTED:").split(",") if m], out


def _module_count(tmp_path: Path, *args: str) -> int:
    _out, err = _run(tmp_path, args, (), None)
    return int(_probed(err, "COUNT:"))


def test_cli_start_imports_no_pdf_spreadsheet_or_word_library(tmp_path):
    imported, out = _imported(tmp_path, "--help")
    # the command line did start and list its commands (the app factory ran, every area registered)
    assert "report" in out and "metrics" in out and "worker" in out
    assert imported == []


def test_a_command_that_needs_no_pdf_does_not_import_weasyprint(tmp_path):
    # `report --help` is the group that renders PDFs and Word files: its help alone renders nothing
    imported, out = _imported(tmp_path, "report", "--help")
    assert "briefing" in out
    assert imported == []
    imported, out = _imported(tmp_path, "metrics", "--help")
    assert "import" in out and "export" in out
    assert imported == []


# Huey imports both its Redis and its PostgreSQL clients; the login throttling's Redis store imports redis. A
# command line run uses neither: the queue is made on first use, the store opened before the first request.
NOT_AT_START = ("huey", "redis", "psycopg")
REDIS = "redis://127.0.0.1:6379/0"


def test_cli_start_imports_no_queue_or_redis_client_even_when_both_use_redis(tmp_path):
    imported, out = _imported(
        tmp_path,
        "--help",
        modules=NOT_AT_START,
        env={"TRACKER_QUEUE_URL": REDIS, "TRACKER_RATELIMIT_STORAGE_URI": REDIS},
    )
    assert "worker" in out
    assert imported == []


MODELS = (
    "tracker.models",
    *(f"tracker.{p.parent.name}.models" for p in sorted((ROOT / "tracker").glob("*/models.py"))),
)


def test_listing_the_commands_imports_no_model_service_page_or_orm(tmp_path):
    # the commands are listed from their table (tracker/commands.py); the pages, models and services are imported when
    # the app is first used (an app context, a request, a command that runs)
    pages = ("tracker.desk", "tracker.cli", "tracker.progress.views", "tracker.progress.service")
    # nor SQLAlchemy's ORM: the models, the first session and the first job asked for import it
    imported, out = _imported(tmp_path, "--help", modules=(*MODELS, *pages, "sqlalchemy.orm"))
    assert "seed" in out and "check-deploy" in out and "Red and yellow cards." in out
    assert len(MODELS) > 10
    assert imported == []


def test_a_group_or_command_help_imports_no_model(tmp_path):
    # a group's or a command's help imports its cli module, which imports its services and models inside the commands
    # that use them: the help text alone needs neither
    services = ("tracker.reports.service", "tracker.reports.builders", "tracker.metrics.service", "sqlalchemy.orm")
    imported, out = _imported(tmp_path, "report", "--help", modules=(*MODELS, *services))
    assert "briefing" in out and "scorecard" in out
    assert imported == []
    imported, out = _imported(tmp_path, "metrics", "summary", "--help", modules=(*MODELS, *services))
    assert "--period" in out and "--json" in out
    assert imported == []


def test_a_command_that_runs_reaches_its_body_having_imported_what_a_help_does(tmp_path):
    # `uploads cleanup` touches no table, URL or template: it imports no model, ORM, page or heavy library, and about
    # as many modules as `--help` (it used to assemble the whole app when Flask pushed its app context)
    pages = ("tracker.desk", "tracker.progress.views", "tracker.reports.views", "tracker.progress.service")
    # nor the forms' libraries: CSRF protection is bound with the pages (a command renders no form)
    forms = ("flask_wtf", "wtforms")
    imported, out = _imported(
        tmp_path, "uploads", "cleanup", modules=(*MODELS, *pages, "sqlalchemy.orm", *HEAVY, *forms)
    )
    assert out.startswith("removed 0 file(s)")
    assert imported == []
    assert _module_count(tmp_path, "uploads", "cleanup") < 660


def test_a_printed_report_loads_its_templates_without_the_forms_libraries(tmp_path, db_url):
    """A report command loads the print templates (and with them the templates' shared globals, the attachment
    macros' among them) but no page: neither the attachment pages nor Flask-WTF and WTForms."""
    code = (
        "import sys\n"
        "from tracker import create_app\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    app.jinja_env.get_template('reports/print.html')\n"
        "    pages = ('flask_wtf', 'wtforms', 'tracker.desk.evidence')\n"
        "    print(sorted(app.assembled), [m for m in pages if m in sys.modules])\n"
    )
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(tmp_path), "TRACKER_DATABASE_URL": db_url}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['data', 'templates'] []", out.stdout


def test_the_first_session_imports_every_model_and_no_page(tmp_path, db_url):
    """A command that imports one model module gets a complete registry from its first session (the mappers'
    relationships name each other by class), without the pages."""
    code = (
        "import sys\n"
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import configure_mappers\n"
        "from tracker import create_app, db\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    from tracker.meetings.models import Meeting\n"
        "    before = 'tracker.models' in sys.modules\n"
        "    db.session.execute(select(Meeting.id).limit(0)).all()\n"
        "    configure_mappers()\n"
        "    print(before, 'tracker.models' in sys.modules, 'tracker.desk' in sys.modules, sorted(app.assembled))\n"
    )
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(tmp_path), "TRACKER_DATABASE_URL": db_url}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "False", "['data']"], out.stdout


def test_cli_start_imports_a_bounded_number_of_modules(tmp_path):
    # `flask --app tracker --help` imported 1,057 modules with the queue made at start-up, 848 without it, 628 with the
    # commands listed from their table, the app assembled on first use and the ORM imported by its first use (Flask,
    # SQLAlchemy's core, the Flask extensions, Flask-Limiter's `flask limiter` plugin command and the app's
    # configuration); a new library imported at start-up shows here before it shows in the start-up time
    count = _module_count(tmp_path, "--help")
    assert count < 660, count


def test_the_queue_is_made_on_first_use_with_every_task_bound(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k" * 32})
    try:
        queue = jobs.queue_for(app)
        assert queue._huey is None  # making the app made no Huey instance
        assert set(queue.tasks) == {
            "archive_briefing",
            "deliver",
            "notify_day",
            "daily_reminders",
            "cards_escalate",
            "uploads_cleanup",
            "notify_events",
        }
        huey = queue.huey
        assert queue.huey is huey and huey.immediate  # TESTING runs tasks at once, as before
        periodic = {t.name for t in huey._registry.periodic_tasks}
        assert periodic == {"daily_reminders", "cards_escalate", "uploads_cleanup", "notify_events"}
    finally:
        app.extensions["tracker.engine"].dispose()


def test_a_bad_queue_or_throttling_store_still_stops_the_start_up(db_url):
    with pytest.raises(RuntimeError, match="TRACKER_QUEUE_URL"):
        create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32, "QUEUE_URL": "amqp://127.0.0.1/"})
    with pytest.raises(ConfigurationError, match="unknown storage scheme"):
        create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k" * 32, "RATELIMIT_STORAGE_URI": "nosuch://127.0.0.1/"})


def test_the_throttling_store_is_opened_by_the_first_request_and_throttles_from_it(db_url):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "k" * 32,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,  # the limiter is one per process: another test's app may have turned it off
            "RATELIMIT_STORAGE_URI": "memory://",
            "RATELIMIT_LOGIN": "2 per minute",
            "WORKERS": 1,
        }
    )
    try:
        assert "limiter" not in app.extensions
        client = app.test_client()
        codes = [client.post("/login", data={"username": "nobody", "password": "x"}).status_code for _ in range(3)]
        assert "limiter" in app.extensions
        assert codes == [200, 200, 429]
    finally:
        app.extensions["tracker.engine"].dispose()


def test_the_served_app_keeps_its_start_up_objects_out_of_the_collectors_passes(tmp_path):
    """gunicorn imports wsgi.py: the app is assembled and the objects made at start-up frozen, so a page's collections
    do not walk them."""
    code = "import gc, wsgi; print(gc.get_freeze_count(), sum(1 for _ in wsgi.app.url_map.iter_rules()))"
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(tmp_path), "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    frozen, rules = map(int, out.stdout.split())
    assert frozen > 10_000
    assert rules > 100  # assembled before the freeze: its pages and models are frozen too


def test_compiled_templates_are_kept_for_the_next_process_and_an_edited_template_is_compiled_again(
    tmp_path, own_instance, monkeypatch
):
    """Each process (a command, a server worker) used to compile every template it rendered, about 0.1 s for the
    briefing; the compiled code is now kept in the instance folder, checked against the template's source."""
    # the suite shares compiled templates in memory between its apps (tests/compiled_once.py): this test reads the
    # app's own cache
    monkeypatch.setattr(templating, "bytecode_cache", compiled_once.instance_bytecode_cache)
    folder = tmp_path / "templates"
    folder.mkdir()
    page = folder / "page.html"
    page.write_text("第一版 {{ n }}", encoding="utf-8")
    config = {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/t.db", "SECRET_KEY": "k" * 32}

    def render() -> tuple[str, int]:
        """What a new process renders, and how many templates it compiled to do so."""
        app = create_app(config)
        env = app.jinja_env
        env.loader = FileSystemLoader(str(folder))
        compiled, compile_source = [], env.compile

        def counted(source, name=None, *args, **kwargs):
            compiled.append(name)
            return compile_source(source, name, *args, **kwargs)

        env.compile = counted
        try:
            return env.get_template("page.html").render(n=1), len(compiled)
        finally:
            app.extensions["tracker.engine"].dispose()

    assert render() == ("第一版 1", 1)
    cache = own_instance / "jinja_cache"
    assert len(list(cache.iterdir())) == 1
    assert stat.S_IMODE(cache.stat().st_mode) & 0o077 == 0  # the app's user alone may read or plant compiled code
    assert render() == ("第一版 1", 0)  # loaded, not compiled
    # an edit that keeps the file's modification time is still seen: the cache checks the source itself
    mtime = page.stat().st_mtime_ns
    page.write_text("第二版 {{ n }}", encoding="utf-8")
    os.utime(page, ns=(mtime, mtime))
    assert render() == ("第二版 1", 1)
    assert render() == ("第二版 1", 0)


def test_the_first_requests_of_many_threads_assemble_the_app_once(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k" * 32, "RATELIMIT_ENABLED": False})
    runs = []
    app.assemble_later(lambda _app: runs.append(threading.get_ident()))
    start = threading.Barrier(6)
    codes = []

    def first_request():
        client = app.test_client()
        start.wait()
        codes.append(client.get("/login").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert codes == [200] * 6  # none saw the app half assembled
        assert len(runs) == 1
    finally:
        app.extensions["tracker.engine"].dispose()


def test_an_app_whose_assembly_failed_refuses_every_later_use(db_url):
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k" * 32})

    def broken(_app):
        raise ImportError("a page's module is missing")

    app.assemble_later(broken)
    try:
        with app.app_context():  # a context alone assembles nothing (a command before its body)
            assert app.assembled == set()
            db.session.execute(text("SELECT 1"))  # the first session assembles the models, not the pages
            assert app.assembled == {"data"}
            assert render_template_string("{{ 1 }}") == "1"  # a template: its filters and labels, not the pages
            assert app.assembled == {"data", "templates"}
            with pytest.raises(ImportError, match="missing"):
                list(app.url_map.iter_rules())
        with pytest.raises(RuntimeError, match="could not be assembled"):
            app.test_client().get("/login")
        with app.app_context():
            with pytest.raises(RuntimeError, match="could not be assembled"):
                db.session.execute(text("SELECT 1"))
            with pytest.raises(RuntimeError, match="could not be assembled"):
                list(app.url_map.iter_rules())
            with pytest.raises(RuntimeError, match="could not be assembled"):
                app.jinja_env.get_template("errors/plain.html")
        with pytest.raises(RuntimeError, match="could not be assembled"):
            jobs.queue_for(app).tasks  # noqa: B018
    finally:
        app.extensions["tracker.engine"].dispose()


def test_the_printed_briefing_needs_no_page_or_url_rule(seeded, frozen):
    """`report briefing` renders its templates with the filters and the shared labels; its links need no URL rule, so
    the pages are not assembled (a template that builds a URL would assemble them: test below)."""
    from tracker.periods import Period
    from tracker.reports import service as reports

    frozen(2026, 10, 20, 9)
    assert seeded.assembled == set()
    with seeded.app_context():
        html = reports.render_html("briefing", reports.briefing_data(db.session, Period.parse("2026-Q3")), True)
        assert seeded.assembled == {"data", "templates"}
    assert "青石镇" in html and "2026年" in html


def test_the_first_session_url_template_or_job_assembles_what_it_needs(db_url):
    """A command reaches its body with nothing assembled, and pays for the models and the pages when it uses them."""

    def fresh():
        return create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "k" * 32, "SERVER_NAME": "localhost"})

    uses = {
        "session": (lambda app: db.session.execute(text("SELECT 1")), {"data"}),
        "url": (lambda app: url_for("auth.login"), {"data", "templates", "pages"}),
        "rules": (lambda app: sum(1 for _ in app.url_map.iter_rules()) > 100, {"data", "templates", "pages"}),
        "template": (lambda app: render_template_string("{{ 1234 | number }}") == "1,234", {"data", "templates"}),
        "template with a URL": (
            lambda app: "/static/" in render_template("errors/plain.html", code=1, message="m"),
            {"data", "templates", "pages"},
        ),
        "job": (lambda app: jobs.queue_for(app).tasks, {"data", "templates", "pages"}),
    }
    for name, (use, stages) in uses.items():
        app = fresh()
        try:
            with app.app_context():
                assert app.assembled == set(), name
                assert use(app), name
                assert app.assembled == stages, name
        finally:
            app.extensions["tracker.engine"].dispose()
