"""Meeting, decision, feedback and review forms."""

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import ValidationError
from .service import MAX_COMMENT, MAX_CONVENER, MAX_LOCATION, MAX_NOTES, MAX_TEXT, MAX_TITLE, parse_period


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


BAD_DATE = "日期无效,应为 2026-10-15 的格式"


def _max(n: int) -> Length:
    return Length(max=n, message=f"不能超过{n}字")


class MeetingForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    title = StringField("会议名称", validators=[DataRequired("请填写会议名称"), _max(MAX_TITLE)])
    date = DateField("会议日期", validators=[InputRequired("请填写会议日期")], invalid_value_message=BAD_DATE)
    convener = StringField("召集人", validators=[DataRequired("请填写召集人"), _max(MAX_CONVENER)])
    period = StringField(
        "研究期间",
        validators=[DataRequired("请填写研究期间,如 2026-Q3 或 2026-10"), Length(max=20, message="期间格式不正确")],
        render_kw={"placeholder": "2026-Q3 或 2026-10"},
    )
    units = MultiCheckboxField("参会单位", coerce=int, validate_choice=False)
    location = StringField("会议地点", validators=[_max(MAX_LOCATION)])
    notes = TextAreaField("备注", validators=[_max(MAX_NOTES)])

    # every field's problem at once, next to the field; the service checks the same rules again
    def validate_period(self, field):
        try:
            parse_period(field.data)
        except ValidationError as e:
            raise FieldError(str(e)) from None

    def validate_units(self, field):
        if not field.data:
            raise FieldError("请至少选择一个参会单位")


class DecisionForm(FlaskForm):
    text = TextAreaField("议定事项", validators=[DataRequired("请填写议定事项内容"), _max(MAX_TEXT)])
    lead_unit = SelectField("牵头单位", coerce=int, validators=[DataRequired("请选择牵头单位")], validate_choice=False)
    supporting = MultiCheckboxField("配合单位", coerce=int, validate_choice=False)
    deadline = DateField("办结期限", validators=[InputRequired("请填写办结期限")], invalid_value_message=BAD_DATE)


class AnswerForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    feedback = TextAreaField("反馈内容", validators=[DataRequired("请填写反馈内容"), _max(MAX_TEXT)])


class ReviewForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    verdict = StringField()  # set by the button pressed
    comment = TextAreaField("审核意见", validators=[_max(MAX_COMMENT)])
