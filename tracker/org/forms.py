"""Unit administration forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from .models import KIND_LABELS


class UnitCreateForm(FlaskForm):
    name = StringField("单位名称", validators=[DataRequired("请输入单位名称"), Length(max=64)])
    kind = SelectField("类型", choices=list(KIND_LABELS.items()))
    aliases = StringField("其他名称(用“、”分隔)", validators=[Length(max=500)])


class UnitEditForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    name = StringField("单位名称", validators=[DataRequired("请输入单位名称"), Length(max=64)])
    aliases = StringField("其他名称(用“、”分隔)", validators=[Length(max=500)])
    is_active = BooleanField("启用")
