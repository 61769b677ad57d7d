"""The notification centre, the administrator's channel and delivery pages, and the archive job's status."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import Optional

from .. import db, policy
from ..auth.models import User
from ..jobs import enqueue_after_commit
from ..org.service import active_units
from ..saving import save
from ..web import EmptyForm, get_or_404, require, safe_next
from . import service
from .models import CHANNEL_LABELS, DELIVERY_LABELS

bp = Blueprint("notify", __name__)


class ChannelForm(FlaskForm):
    owner = SelectField("接收方", validate_choice=False)
    kind = SelectField("渠道", choices=list(CHANNEL_LABELS.items()))
    target = StringField("Webhook 地址或邮箱")
    secret = StringField("钉钉加签密钥")
    digest = BooleanField("每日汇总一条")
    active = BooleanField("启用", default=True)
    version = IntegerField(validators=[Optional()])


class _Notify:
    """The one value templates get: the bell's unread count and, for reviewers, what waits for them."""

    @property
    def unread(self) -> int:
        if not policy.can(current_user, "notify.inbox"):
            return 0
        return service.unread_count(db.session, current_user)


@bp.app_context_processor
def _notify_context():
    return {"notify": _Notify()}


# -- the notification centre ------------------------------------------------------


@bp.get("/notifications")
@login_required
def inbox():
    require("notify.inbox")
    only_unread = request.args.get("unread") == "1"
    items = service.inbox(db.session, current_user, only_unread)
    return render_template("notify/inbox.html", items=items, only_unread=only_unread, form=EmptyForm())


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    require("notify.inbox")
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    back = safe_next(form.next.data) or url_for(".inbox")
    save(lambda: service.mark_read(db.session, current_user, notification_id), back=back)
    return redirect(back)


@bp.post("/notifications/read-all")
@login_required
def read_all():
    require("notify.inbox")
    if not EmptyForm().validate_on_submit():
        abort(400)
    n = service.mark_read(db.session, current_user)
    db.session.commit()
    flash(f"已将{n}条通知标为已读", "success")
    return redirect(url_for(".inbox"))


# -- channels and deliveries (administrator) -------------------------------------------


def _owner_choices() -> list[tuple[str, str]]:
    units = [(f"unit:{u.id}", u.name) for u in active_units(db.session)]
    users = [
        (f"user:{u.id}", f"{u.display_name}({u.username},仅邮件)")
        for u in db.session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.username))
    ]
    return units + users


def _owner(value: str) -> tuple[int | None, int | None]:
    kind, _, ident = (value or "").partition(":")
    if not ident.isdigit():
        return None, None
    return (int(ident), None) if kind == "unit" else (None, int(ident))


@bp.route("/admin/channels", methods=["GET", "POST"])
@login_required
def channels():
    require("notify.manage")
    form = ChannelForm()
    form.owner.choices = _owner_choices()

    def page(status: int):
        return render_template(
            "notify/channels.html", form=form, channels=service.list_channels(db.session), button=EmptyForm()
        ), status

    if request.method != "POST":
        return page(200)
    if not form.validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return page(422)
    unit_id, user_id = _owner(form.owner.data)
    ch = save(
        lambda: service.add_channel(
            db.session,
            current_user,
            kind=form.kind.data,
            target=form.target.data,
            secret=form.secret.data,
            unit_id=unit_id,
            user_id=user_id,
            digest=form.digest.data,
        ),
        page=lambda _status: page(422),  # a stale add is a refusal like any other
    )
    flash(f"已添加通知渠道:{ch.label}", "success")
    return redirect(url_for(".channels"))


@bp.post("/admin/channels/<int:channel_id>")
@login_required
def channel_update(channel_id: int):
    require("notify.manage")
    get_or_404(service.Channel, channel_id)
    form = ChannelForm()
    form.owner.choices = _owner_choices()
    back = url_for(".channels")
    if not form.validate_on_submit():
        flash("请求无效,请刷新后重试", "error")
        return redirect(back)
    save(
        lambda: service.update_channel(
            db.session,
            current_user,
            channel_id,
            form.version.data,
            target=form.target.data,
            secret=form.secret.data or None,
            digest=form.digest.data,
            active=form.active.data,
        ),
        back=back,
    )
    flash("通知渠道已保存", "success")
    return redirect(back)


@bp.post("/admin/channels/<int:channel_id>/delete")
@login_required
def channel_delete(channel_id: int):
    require("notify.manage")
    get_or_404(service.Channel, channel_id)
    form = EmptyForm()
    back = url_for(".channels")
    if form.validate_on_submit():
        save(lambda: service.delete_channel(db.session, current_user, channel_id, form.version.data), back=back)
        flash("通知渠道已删除,发送记录保留", "success")
    return redirect(back)


@bp.get("/admin/deliveries")
@login_required
def deliveries():
    require("notify.manage")
    status = request.args.get("status") if request.args.get("status") in DELIVERY_LABELS else None
    return render_template(
        "notify/deliveries.html",
        items=service.list_deliveries(db.session, status),
        status=status,
        labels=DELIVERY_LABELS,
        form=EmptyForm(),
    )


@bp.post("/admin/deliveries/<int:delivery_id>/retry")
@login_required
def delivery_retry(delivery_id: int):
    require("notify.manage")
    if not EmptyForm().validate_on_submit():
        abort(400)

    def retry():
        service.retry_now(db.session, current_user, delivery_id)
        enqueue_after_commit(db.session, "deliver", delivery_id)

    back = url_for(".deliveries")
    save(retry, back=back)
    flash("已重新排入发送队列", "success")
    return redirect(back)
