"""Login, logout, own password, and user administration."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .. import db
from ..extensions import limiter, login_manager
from ..org.service import active_units
from ..saving import save
from ..web import EmptyForm, get_or_404, require, safe_next
from . import service
from .forms import LoginForm, PasswordForm, ResetPasswordForm, UserCreateForm, UserEditForm
from .models import User

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def _load_user(token: str):
    return service.load_from_cookie(db.session, token)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_limit_ip() -> str:
    return current_app.config["RATELIMIT_LOGIN_IP"]


def _ip_and_username() -> str:
    # Guessing one account's password is throttled per account and address; offices behind one NAT address
    # are limited only by the looser per-address limit.
    return f"{get_remote_address()}|{(request.form.get('username') or '').strip().lower()}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_ip_and_username)
@limiter.limit(_login_limit_ip, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = service.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            flash("用户名或密码错误,或账号已停用", "error")
        else:
            login_user(user)
            return redirect(safe_next(form.next.data) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("main.home"))
    service.end_sessions(db.session, current_user)
    db.session.commit()
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            flash("两次输入的新密码不一致", "error")
        else:
            user = save(
                lambda: service.change_own_password(
                    db.session, current_user._get_current_object(), form.old_password.data, form.new_password.data
                ),
                page=lambda _status: render_template("auth/password.html", form=form),
            )
            login_user(user)  # this session continues with the new token; all others end
            flash("密码已修改,其他设备上的登录已失效", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


def _unit_choices():
    return [(0, "(无)")] + [(u.id, f"{u.name}({u.kind_label})") for u in active_units(db.session)]


@bp.get("/admin/users")
@login_required
def users():
    require("user.manage")
    rows = db.session.scalars(select(User).order_by(User.role, User.unit_id, User.username)).all()
    return render_template("auth/users.html", users=rows)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def user_new():
    require("user.manage")
    form = UserCreateForm()
    form.unit_id.choices = _unit_choices()

    def page(_status: int):  # the form again, with 200, refused or not yet sent
        return render_template("auth/user_new.html", form=form)

    if not form.validate_on_submit():
        return page(200)
    user = save(
        lambda: service.create_user(
            db.session,
            current_user,
            username=form.username.data,
            display_name=form.display_name.data,
            role=form.role.data,
            unit_id=form.unit_id.data or None,
            password=form.password.data,
        ),
        page=page,
    )
    flash(f"已创建用户 {user.username}", "success")
    return redirect(url_for(".users"))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):
    require("user.manage")
    user = get_or_404(User, user_id)
    form = UserEditForm(obj=user if request.method != "POST" else None)
    form.unit_id.choices = _unit_choices()
    if request.method != "POST":
        form.unit_id.data = user.unit_id or 0

    def page(_status: int):  # the form again, with 200, refused or not yet sent
        shown = get_or_404(User, user_id)
        return render_template("auth/user_edit.html", form=form, user=shown, reset_form=ResetPasswordForm())

    if not form.validate_on_submit():
        return page(200)
    save(
        lambda: service.update_user(
            db.session,
            current_user,
            user.id,
            form.version.data,
            display_name=form.display_name.data,
            role=form.role.data,
            unit_id=form.unit_id.data or None,
            is_active=form.is_active.data,
        ),
        page=page,
    )
    flash("用户信息已保存", "success")
    return redirect(url_for(".users"))


@bp.post("/admin/users/<int:user_id>/password")
@login_required
def user_reset_password(user_id: int):
    require("user.manage")
    form = ResetPasswordForm()
    back = url_for(".user_edit", user_id=user_id)
    if not form.validate_on_submit():
        flash("请输入新密码", "error")
        return redirect(back)
    user = save(lambda: service.reset_password(db.session, current_user, user_id, form.new_password.data), back=back)
    flash(f"已重置 {user.username} 的密码,其现有登录已失效", "success")
    return redirect(back)
