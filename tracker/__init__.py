"""反诈督办台账: the district's anti-telecom-fraud plan tracker."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask.ctx import RequestContext
from flask.templating import Environment
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from werkzeug.routing import Map

from . import db, hardening, jobs, ratelimit, templating
from .commands import CommandTable
from .config import Defaults, default_database_url, load_secret_key
from .extensions import limiter, login_manager

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


# the parts of the app its first use builds, in order: a later one needs the earlier ones
STAGES = ("data", "templates", "pages")


class AssemblingMap(Map):
    """The app's URL rules: the first match, URL built or listing of the rules assembles the app's pages first (`due`
    is the app's `assemble` until it has run). Binding an adapter (an app context, with SERVER_NAME) does not: the
    adapter reads this map, rules added later included."""

    due: Callable[[], None] | None = None

    def update(self) -> None:
        if self.due is not None:
            self.due()
        super().update()


class AssemblingEnvironment(Environment):
    """The app's templates: loading one assembles the models and the templates' filters and shared labels first, so
    that they are there when it compiles. Not the pages: a printed report's template links nowhere (a template that
    builds a URL assembles them through the URL map)."""

    def get_template(self, *args, **kwargs):
        self.app.assemble("templates")
        return super().get_template(*args, **kwargs)

    def select_template(self, *args, **kwargs):
        self.app.assemble("templates")
        return super().select_template(*args, **kwargs)

    def from_string(self, *args, **kwargs):
        self.app.assemble("templates")
        return super().from_string(*args, **kwargs)


class TrackerApp(Flask):
    """The Flask app, built in parts. `create_app` configures it (configuration, keys, the database, the extensions,
    the queue's settings: everything a bad setting must stop at once); the rest is assembled once, on first real use
    (`assemble`), in three stages, each with those before it: the models ("data") by the first database session; the
    templates' filters and shared labels ("templates") by the first template loaded; the pages, URL rules, error pages
    and the queue's tasks ("pages") by the first request, URL matched, built or listed, or job queued. An app context
    alone (a command that runs, before its body) builds none of it, so a command pays only for what it uses. The
    set-up only serving needs (the login throttling's store) runs before the first request."""

    url_map_class = AssemblingMap
    jinja_environment = AssemblingEnvironment

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._serving_setup: list[Callable[[Flask], None]] = []
        self._serving_ready = False
        self._serving_lock = threading.Lock()
        self._steps: dict[str, list[Callable[[Flask], None]]] = {stage: [] for stage in STAGES}
        self._assembly_lock = threading.RLock()
        self._assembling = False
        self._done: set[str] = set()
        self._assembled = False  # every stage done
        self._assembly_failed: Exception | None = None

    def before_serving(self, setup: Callable[[Flask], None]) -> None:
        """Run `setup(app)` once, before the first request is handled."""
        self._serving_setup.append(setup)

    def assemble_later(self, step: Callable[[Flask], None], stage: str = "pages") -> None:
        """Run `step(app)` once, when `stage` is first needed (see `assemble`)."""
        if stage in self._done:
            raise RuntimeError(f"the app's {stage} are already assembled")
        self._steps[stage].append(step)
        self.url_map.due = self.assemble

    @property
    def assembled(self) -> set[str]:
        """The stages assembled so far."""
        return set(self._done)

    def assemble(self, stage: str = "pages") -> None:
        """Run the steps left for `stage` and the stages before it, once and in order; other threads wait until they
        are done. A step that needs the app while assembling gets it as it is. A step that fails leaves the app
        unusable: every later use raises, rather than running half an app."""
        if self._assembled:
            return
        if self._assembly_failed is None and stage in self._done:
            return
        with self._assembly_lock:
            if self._assembling:  # a step's own use of the app, on this thread
                return
            if self._assembly_failed is not None:
                raise RuntimeError("the app could not be assembled") from self._assembly_failed
            if stage in self._done:  # done meanwhile
                return
            self._assembling = True
            try:
                for name in STAGES[: STAGES.index(stage) + 1]:
                    if name not in self._done:
                        for step in self._steps[name]:
                            step(self)
                        self._done.add(name)
            except Exception as e:
                self._assembly_failed = e
                raise
            finally:
                self._assembling = False
            if len(self._done) == len(STAGES):
                self.url_map.due = None
                self._assembled = True

    def assemble_data(self) -> None:
        """The models, for the first database session (tracker.db): relationships named by class need them all."""
        self.assemble("data")

    def request_context(self, environ) -> RequestContext:
        # before the context binds the URL rules (every request and test request comes through here)
        self.assemble()
        return super().request_context(environ)

    def wsgi_app(self, environ, start_response):
        if not self._serving_ready:
            self.assemble()
            with self._serving_lock:
                if not self._serving_ready:
                    for setup in self._serving_setup:
                        setup(self)
                    self._serving_ready = True
        return super().wsgi_app(environ, start_response)


def create_app(test_config: dict | None = None) -> TrackerApp:
    """Build the application: configuration, database, login, CSRF, rate limits, the command table; its models and
    pages on first use."""
    app = TrackerApp(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH", str(ROOT / "instance")),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    _configure(app, test_config)
    _init_extensions(app)
    app.cli = CommandTable(app.name)
    _register_headers(app)
    app.assemble_later(_assemble_data, "data")
    app.assemble_later(_assemble_templates, "templates")
    app.assemble_later(_assemble_pages)
    return app


def _assemble_data(app: TrackerApp) -> None:
    """What the first database session needs: every model (the mappers' relationships name each other by class), and
    the audit key for sessions made outside the app's (tests, scripts)."""
    from . import models  # noqa: F401
    from .audit import service as audit_service

    audit_service.set_default_key(app.config["AUDIT_KEY"])


def _assemble_csrf(app: TrackerApp) -> None:
    """CSRF protection: every request's check, and `csrf_token()` for the forms' templates (it reads the session, so
    only a request renders it). With the pages, before the first request; a command, which renders no form, does not
    import Flask-WTF and WTForms."""
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)


def _assemble_templates(app: TrackerApp) -> None:
    """What a template needs: the filters, the policy for templates, the labels the areas' templates share."""
    from . import desk

    templating.init_app(app)
    desk.template_globals(app)


def _assemble_pages(app: TrackerApp) -> None:
    """What a request or a URL needs: the pages, the queue's tasks (bound by the desk), the error pages (one of them
    for the ORM's stale data)."""
    _register_blueprints(app)
    _register_error_pages(app)


def _configure(app: Flask, test_config: dict | None) -> None:
    """Defaults, then TRACKER_* variables, then the test's values; keys kept in the instance folder when unset."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("TRACKER")
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("DATABASE_URL", default_database_url(app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    app.config["DATABASE_URL"] = str(app.config["DATABASE_URL"])
    # the audit chain's MAC key lives outside the database, like the secret key
    if not app.config.get("AUDIT_KEY"):
        app.config["AUDIT_KEY"] = load_secret_key(app.instance_path, "audit_key")
    app.config["AUDIT_KEY"] = str(app.config["AUDIT_KEY"])
    app.config.setdefault("AUDIT_ANCHORS", str(Path(app.instance_path) / "audit_anchors"))
    app.json.ensure_ascii = False
    app.jinja_options = {**app.jinja_options, "bytecode_cache": templating.bytecode_cache(app.instance_path)}


def _init_extensions(app: TrackerApp) -> None:
    """Request hardening, the database, CSRF, login throttling, the job queue and logins."""
    hardening.init_app(app)
    db.init_app(app)
    app.assemble_later(_assemble_csrf)  # before the pages
    # the store is chosen (and said) now; it is opened, with its client library, when the app first serves
    ratelimit.configure(app)
    app.before_serving(limiter.init_app)
    jobs.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "info"


def _register_blueprints(app: Flask) -> None:
    """Every area's pages, then the desk (the pages where areas meet)."""
    from . import desk
    from .assessment.calendar_views import bp as calendar_bp
    from .assessment.card_views import bp as cards_bp
    from .assessment.views import bp as assessment_bp
    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .exports.views import bp as exports_bp
    from .meetings.views import bp as meetings_bp
    from .metrics.views import bp as metrics_bp
    from .notify.views import bp as notify_bp
    from .org.views import bp as org_bp
    from .plans.views import bp as plans_bp
    from .progress.views import bp as progress_bp
    from .publicity.views import bp as publicity_bp
    from .reports.views import bp as reports_bp

    desk.add_routes()  # to the areas' blueprints, before they are registered
    for bp in (
        auth_bp,
        plans_bp,
        progress_bp,
        org_bp,
        audit_bp,
        metrics_bp,
        assessment_bp,
        cards_bp,
        calendar_bp,
        reports_bp,
        notify_bp,
        exports_bp,
        publicity_bp,
    ):
        app.register_blueprint(bp)
    app.register_blueprint(meetings_bp)
    # the workbench, the attachments' routes and the queue's tasks
    desk.init_app(app)


def _register_error_pages(app: Flask) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    messages = {
        400: "请求无效,请返回后重试。",
        403: "您没有权限访问此页面。",
        404: "页面不存在。",
        405: "不支持此操作方式。",
        409: "数据已被他人修改,请刷新后重试。",
        413: "上传的文件过大。",
        429: "操作过于频繁,请稍后再试。",
        500: "系统内部错误,已记录,请稍后再试。",
    }

    def handler(e):
        code = getattr(e, "code", 500) or 500
        if code == 500:
            log.exception("unhandled error on %s", request.path)
            # the page must not touch the database again: it may be what failed
            _discard_session()
            return _plain_page(app, 500, messages[500])
        message = e.description if isinstance(e, hardening.NulInRequest) else messages.get(code, "出错了")
        return render_template("errors/error.html", code=code, message=message), code

    def unavailable(e):
        log.error("database unavailable on %s: %s", request.path, e)
        _discard_session()
        return _plain_page(app, 503, "数据库暂时无法访问,请稍后重试。")

    def bad_data(e):
        # a value the database refuses (out of range, NUL): the request's fault, not the system's
        log.warning("database refused a value on %s: %s", request.path, e.orig)
        _discard_session()
        return _plain_page(app, 400, "请求中的数据超出允许范围,请检查后重试。")

    app.register_error_handler(DataError, bad_data)
    app.register_error_handler(OperationalError, unavailable)
    app.register_error_handler(InterfaceError, unavailable)

    for code in messages:
        app.register_error_handler(code, handler)

    def stale(_e):
        # two people saved the same record at the same moment: the later one is refused, nothing is lost
        from . import db

        db.session.rollback()
        return render_template("errors/error.html", code=409, message=messages[409]), 409

    app.register_error_handler(StaleDataError, stale)

    def clash(e):
        # a constraint met by a write with no domain error registered for it (tracker.errors.on_unique_violation):
        # the write is refused as a conflict rather than an error page, and logged so it gets a clear message
        log.warning("constraint violated on %s: %s", request.path, getattr(e, "orig", e))
        return stale(e)

    app.register_error_handler(IntegrityError, clash)


def _plain_page(app: Flask, code: int, message: str):
    """An error page rendered without the context processors, which would ask the database for the user."""
    return app.jinja_env.get_template("errors/plain.html").render(code=code, message=message), code


def _discard_session() -> None:
    s = g.pop("db_session", None)
    if s is not None:
        try:
            s.close()
        except Exception:  # a dead connection may fail to roll back; the pool replaces it (pre-ping)
            log.warning("could not close the database session cleanly", exc_info=True)


def _register_headers(app: Flask) -> None:
    @app.before_request
    def fresh_user():
        # The user (role, unit, session token, active flag) is loaded from the database on every request,
        # even when an application context outlives one request.
        g.pop("_login_user", None)

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        # a logged-in session (read from the cookie, so an outage of the database cannot break the response)
        if session.get("_user_id"):
            resp.headers["Cache-Control"] = "no-store"
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return resp
