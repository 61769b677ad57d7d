"""The register's blueprint, shared by its page modules (views, import_views, creation_views), and the filters
its lists read from the query string."""

from __future__ import annotations

from flask import Blueprint, request

from ..org.models import Unit
from ..periods import period_arg
from ..web import get_or_404, require
from . import service

bp = Blueprint("publicity", __name__, url_prefix="/publicity")


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw.isdigit() or int(raw) > 2_147_483_647:
        return None
    return int(raw)


def month_arg(name: str) -> str | None:
    """The month a list filter names (YYYY-MM); none when missing, and a bad one flashed and dropped as every
    page's period is (periods.period_arg)."""
    p = period_arg(request.args.get(name), kinds=("month",))
    return p.code if p else None


def filter_unit() -> int | None:
    """The unit filter, refused as the unit's own page would be (404 unknown, 403 not the officer's)."""
    uid = int_arg("unit")
    if uid is None:
        return None
    unit = get_or_404(Unit, uid)
    require("unit.view", unit)
    return uid


def activity_filter() -> service.ActivityFilter:
    return service.ActivityFilter(
        unit_id=filter_unit(),
        month=month_arg("month"),
        start=month_arg("from"),
        end=month_arg("to"),
        target_id=int_arg("target"),
        fraud_id=int_arg("fraud"),
    )
