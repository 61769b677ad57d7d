"""Plan settings form."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange


class SettingsForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    period_kind = SelectField("填报周期", choices=[("month", "按月")])
    due_day = IntegerField("每月报送截止日", validators=[DataRequired("请输入截止日"),
                                                       NumberRange(1, 28, "截止日须为1至28日")])
