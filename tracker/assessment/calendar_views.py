"""The holiday calendar page (administrator): a year's days off and working weekend days, importing a notice."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db
from ..errors import DomainError
from ..web import EmptyForm, flash_error, require
from . import holidays as service
from .forms import CalendarImportForm, CalendarYearForm, HolidayDayForm

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")


def _year_arg() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else clock.today().year


@bp.get("/")
@login_required
def index():
    require("calendar.manage")
    view = service.year_view(db.session, _year_arg())
    return render_template(
        "assessment/calendar.html",
        view=view,
        years=service.entered_years(db.session),
        cards=service.cards_in_year(db.session, view.year) if view.entry is None else [],
        import_form=CalendarImportForm(year=view.year),
        day_form=HolidayDayForm(),
        year_form=CalendarYearForm(year=view.year),
        empty=EmptyForm(),
    )


@bp.post("/import")
@login_required
def import_year():
    require("calendar.manage")
    form = CalendarImportForm()
    year = form.year.data or _year_arg()
    if not form.validate_on_submit():
        flash("请填写年份并粘贴节假日安排", "error")
        return redirect(url_for(".index", year=year))
    try:
        result = service.import_year(db.session, current_user, form.year.data, form.text.data, form.source.data)
        db.session.commit()
    except DomainError as e:
        flash_error(e)
        # the pasted text is shown back, nothing saved is lost
        view = service.year_view(db.session, year)
        return render_template(
            "assessment/calendar.html",
            view=view,
            years=service.entered_years(db.session),
            cards=[],
            import_form=form,
            day_form=HolidayDayForm(),
            year_form=CalendarYearForm(year=view.year),
            empty=EmptyForm(),
        )
    off = sum(not d.is_workday for d in result.days)
    flash(f"已录入{result.year}年节假日安排:工作日放假{off}天,调休上班{len(result.days) - off}天", "success")
    if result.cards:
        ids = "、".join(f"#{c.id}" for c in result.cards)
        flash(f"以下生效中的红黄牌有日期在{result.year}年,发牌时未计该年节假日,请审核员核对期限:{ids}", "info")
    return redirect(url_for(".index", year=result.year))


@bp.post("/days")
@login_required
def add_day():
    require("calendar.manage")
    form = HolidayDayForm()
    if not form.validate_on_submit():
        flash("请填写有效日期", "error")
        return redirect(url_for(".index", year=_year_arg()))
    try:
        service.add_day(db.session, current_user, form.day.data, form.kind.data == "work", form.name.data)
        db.session.commit()
        flash(f"已录入{form.day.data:%Y-%m-%d}", "success")
    except DomainError as e:
        flash_error(e)
    return redirect(url_for(".index", year=form.day.data.year))


@bp.post("/days/<day>/delete")
@login_required
def remove_day(day: str):
    require("calendar.manage")
    try:
        d = date.fromisoformat(day)
    except ValueError:
        flash("日期无效", "error")
        return redirect(url_for(".index"))
    if EmptyForm().validate_on_submit():
        try:
            service.remove_day(db.session, current_user, d)
            db.session.commit()
            flash(f"已删除{d:%Y-%m-%d}", "success")
        except DomainError as e:
            flash_error(e)
    return redirect(url_for(".index", year=d.year))


@bp.post("/years")
@login_required
def mark_year():
    require("calendar.manage")
    form = CalendarYearForm()
    if form.validate_on_submit():
        try:
            service.set_entered(db.session, current_user, form.year.data, form.entered.data == "1")
            db.session.commit()
            flash("已更新该年的录入状态", "success")
        except DomainError as e:
            flash_error(e)
    return redirect(url_for(".index", year=form.year.data or _year_arg()))
