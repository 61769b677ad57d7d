"""Forms of the assessment and card pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .models import COLOUR_LABELS, NOT_APPLICABLE_POLICIES


class PeriodActionForm(FlaskForm):
    period = HiddenField(validators=[DataRequired()])


class ReopenForm(FlaskForm):
    period = HiddenField(validators=[DataRequired()])
    reason = TextAreaField("重新开放理由", validators=[DataRequired("请填写理由"), Length(max=1000)])


class ItemsForm(FlaskForm):
    """The scheme's items, edited together (fields item-<id>-name, -weight_township, -weight_department, -params,
    -is_active, -version are read by the view): weight moves between items in one save."""


class SchemeSettingsForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    not_applicable = SelectField("不适用项目", choices=list(NOT_APPLICABLE_POLICIES.items()))


class AdjustmentForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    points = StringField("每次分值", validators=[DataRequired()])
    cap = StringField("上限", validators=[DataRequired()])
    is_active = BooleanField("启用")


class RuleForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    n = IntegerField("名次/数量", validators=[Optional()])
    pct = IntegerField("百分比", validators=[Optional()])
    months = IntegerField("月数", validators=[Optional()])
    small_base = IntegerField("小基数", validators=[Optional()])
    abs = IntegerField("小基数时增加", validators=[Optional()])
    is_active = BooleanField("启用")


class IssueForm(FlaskForm):
    """Issue a recommended card (recommendation + version) or one of the reviewer's own (unit, colour, reason)."""

    recommendation_id = IntegerField(validators=[Optional()])
    version = IntegerField(validators=[Optional()])
    unit_id = SelectField("单位", coerce=int, validate_choice=False, validators=[Optional()])
    colour = SelectField("牌色", choices=list(COLOUR_LABELS.items()))
    period = StringField("所属期间", validators=[Optional(), Length(max=16)])
    reason = TextAreaField("理由", validators=[Optional(), Length(max=5000)])
    deadline = DateField("整改期限", validators=[Optional()])
    meeting_id = IntegerField(validators=[Optional()])


class DismissForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    reason = TextAreaField("不予发牌理由", validators=[DataRequired("请填写理由"), Length(max=5000)])


class EditCardForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    reason = TextAreaField("理由", validators=[DataRequired("请填写理由"), Length(max=5000)])
    deadline = DateField("整改期限", validators=[DataRequired("请填写整改期限")])


class RectifyForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    text = TextAreaField("内容", validators=[DataRequired("请填写内容"), Length(max=5000)])


class RectReviewForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    decision = StringField()  # set by the button pressed
    comment = TextAreaField("审核意见", validators=[Length(max=5000)])


class LiftForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    note = TextAreaField("摘牌意见", validators=[DataRequired("请填写摘牌意见"), Length(max=5000)])


class CalendarImportForm(FlaskForm):
    year = IntegerField("年份", validators=[DataRequired("请填写年份")])
    text = TextAreaField("节假日安排", validators=[DataRequired("请粘贴节假日安排"), Length(max=5000)])
    source = StringField("来源", validators=[Optional(), Length(max=500)])


class HolidayDayForm(FlaskForm):
    day = DateField("日期", validators=[DataRequired("请填写有效日期")])
    kind = SelectField("类型", choices=[("off", "放假"), ("work", "调休上班")])
    name = StringField("名称", validators=[Optional(), Length(max=32)])


class CalendarYearForm(FlaskForm):
    year = IntegerField(validators=[DataRequired()])
    entered = HiddenField()
