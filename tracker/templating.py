"""Jinja filters and globals: Chinese dates, numbers, state badges, and the policy for templates; the compiled
templates' cache."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask_login import current_user
from jinja2 import FileSystemBytecodeCache

from . import clock, policy


def html_text(value) -> str:
    """The text `markupsafe.escape(value)` gives, as a plain str: for HTML written in Python, where each escape
    would otherwise make a Markup object (a Python-level constructor) only to be put into a bigger string. Markup
    (anything with __html__) is kept as it is."""
    if type(value) is not str:
        if hasattr(value, "__html__"):
            return str(value.__html__())
        value = str(value)
    return (
        value.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def cn_date(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = clock.local(value).date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


def cn_datetime(value) -> str:
    if value is None:
        return "—"
    v = clock.local(value)
    return f"{v.year}年{v.month}月{v.day}日 {v:%H:%M}"


def cn_month(code: str) -> str:
    if not code or len(code) != 7:
        return code or "—"
    return f"{int(code[:4])}年{int(code[5:])}月"


def number(value, decimals: int = 0) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal | float):
        return f"{value:,.{decimals}f}"
    return f"{value:,}"


def init_app(app) -> None:
    app.jinja_env.filters.update(cn_date=cn_date, cn_datetime=cn_datetime, cn_month=cn_month, number=number)

    @app.context_processor
    def _globals():
        def can(action: str, obj=None) -> bool:
            return policy.can(current_user, action, obj)

        return {"can": can, "district_name": app.config["DISTRICT_NAME"], "today": clock.today()}


def bytecode_cache(instance_path: str) -> FileSystemBytecodeCache:
    """Compiled templates kept in the instance folder (`jinja_cache`, open to the app's user only), so that a process
    (a command, each server worker) loads them rather than compiling every template again. Jinja keeps each one with
    its template's checksum and compiles again a template whose source changed."""
    folder = Path(instance_path) / "jinja_cache"
    folder.mkdir(mode=0o700, exist_ok=True)
    return FileSystemBytecodeCache(str(folder))
