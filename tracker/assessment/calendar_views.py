"""The holiday calendar page (administrator): a year's days off and working weekend days, importing a notice."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import clock, db
from ..saving import save
from ..web import EmptyForm, require
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

    def page(_status: int):
        # the pasted text is shown back, nothing saved is lost (with 200, as the page the text was pasted on)
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

    result = save(
        lambda: service.import_year(db.session, current_user, form.year.data, form.text.data, form.source.data),
        page=page,
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
    back = url_for(".index", year=form.day.data.year)
    save(
        lambda: service.add_day(db.session, current_user, form.day.data, form.kind.data == "work", form.name.data),
        back=back,
    )
    flash(f"已录入{form.day.data:%Y-%m-%d}", "success")
    return redirect(back)


@bp.post("/days/<day>/delete")
@login_required
def remove_day(day: str):
    require("calendar.manage")
    try:
        d = date.fromisoformat(day)
    except ValueError:
        flash("日期无效", "error")
        return redirect(url_for(".index"))
    back = url_for(".index", year=d.year)
    if EmptyForm().validate_on_submit():
        save(lambda: service.remove_day(db.session, current_user, d), back=back)
        flash(f"已删除{d:%Y-%m-%d}", "success")
    return redirect(back)


@bp.post("/years")
@login_required
def mark_year():
    require("calendar.manage")
    form = CalendarYearForm()
    back = url_for(".index", year=form.year.data or _year_arg())
    if form.validate_on_submit():
        save(lambda: service.set_entered(db.session, current_user, form.year.data, form.entered.data == "1"), back=back)
        flash("已更新该年的录入状态", "success")
    return redirect(back)
