"""Report, review and urge forms."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .service import MAX_TEXT


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ReportForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    progress = TextAreaField("工作进展", validators=[Length(max=MAX_TEXT, message=f"不能超过{MAX_TEXT}字")])
    completion = TextAreaField("完成情况", validators=[Length(max=MAX_TEXT, message=f"不能超过{MAX_TEXT}字")])
    problems = TextAreaField("存在问题", validators=[Length(max=MAX_TEXT, message=f"不能超过{MAX_TEXT}字")])
    next_steps = TextAreaField("下步计划", validators=[Length(max=MAX_TEXT, message=f"不能超过{MAX_TEXT}字")])
    measures = MultiCheckboxField("涉及的具体措施", coerce=int, validate_choice=False)
    action = StringField(default="save")  # set by the button pressed


class ReviewForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    decision = StringField()  # set by the button pressed
    comment = TextAreaField("审核意见", validators=[Length(max=2000, message="不能超过2000字")])


class UrgeForm(FlaskForm):
    task_id = IntegerField(validators=[DataRequired()])
    unit_id = IntegerField(validators=[DataRequired()])
    period = StringField(validators=[DataRequired()])
    message = TextAreaField("催办内容", validators=[Length(max=500, message="不能超过500字")])
    next = HiddenField()
