"""Login, password and user administration forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .models import ROLE_LABELS


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    next = HiddenField()


class PasswordForm(FlaskForm):
    old_password = PasswordField("原密码", validators=[DataRequired("请输入原密码")])
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)])
    confirm = PasswordField("确认新密码", validators=[DataRequired("请再次输入新密码")])


class UserCreateForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    display_name = StringField("姓名", validators=[Length(max=64)])
    role = SelectField("角色", choices=list(ROLE_LABELS.items()))
    unit_id = SelectField("所属单位", coerce=int, validate_choice=False)
    password = PasswordField("初始密码", validators=[DataRequired("请输入初始密码"), Length(max=128)])


class UserEditForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    display_name = StringField("姓名", validators=[Length(max=64)])
    role = SelectField("角色", choices=list(ROLE_LABELS.items()))
    unit_id = SelectField("所属单位", coerce=int, validate_choice=False)
    is_active = BooleanField("启用")


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=128)])
    version = IntegerField(validators=[Optional()])
