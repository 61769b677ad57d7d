"""Plan forms: reporting settings, and importing a plan from its document."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class SettingsForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    period_kind = SelectField("填报周期", choices=[("month", "按月")])
    due_day = IntegerField(
        "每月报送截止日", validators=[DataRequired("请输入截止日"), NumberRange(1, 28, "截止日须为1至28日")]
    )


class PeriodForm(FlaskForm):
    """The plan's period: its first and last month (YYYY-MM); the service checks the values."""

    version = IntegerField(validators=[DataRequired("请求无效,请刷新页面后重试")])
    start_month = StringField("起始月份", validators=[DataRequired("请填写起始月份"), Length(max=20)])
    end_month = StringField("截止月份", validators=[DataRequired("请填写截止月份"), Length(max=20)])


class YearField(IntegerField):
    """A year; a value that is not a number gets a Chinese message."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:
            raise ValueError("年度须为数字,如2026") from e


class ImportForm(FlaskForm):
    """Step one of a plan import: the text (pasted or a file) and what the text may not say itself."""

    text = TextAreaField("方案全文", validators=[Optional()])
    file = FileField("或上传文件(.txt / .docx)", validators=[Optional()])
    section = StringField(
        "篇章(文件含多篇时填写,如“篇2”)", validators=[Optional(), Length(max=20, message="篇章不能超过20字")]
    )
    title = StringField(
        "方案标题(文中没有标题时填写)", validators=[Optional(), Length(max=200, message="方案标题不能超过200字")]
    )
    year = YearField("年度", validators=[Optional(), NumberRange(2000, 2100, "年度须为2000至2100年")])
    district = StringField("地区", validators=[Optional(), Length(max=64, message="地区名称不能超过64字")])


MEASURE_ACTIONS = [("keep", "保留"), ("merge", "并入上一条"), ("drop", "删除")]


class TaskReviewForm(Form):
    """One task in the preview: its title, units and what to do with each measure."""

    title = StringField(
        "任务标题", validators=[DataRequired("任务标题不能为空"), Length(max=200, message="任务标题不能超过200字")]
    )
    lead_units = StringField("牵头单位", validators=[Length(max=1000, message="牵头单位过长")])
    member_units = StringField("成员单位", validators=[Length(max=2000, message="成员单位过长")])
    includes_townships = BooleanField("各镇(街道)")
    measures = FieldList(SelectField(choices=MEASURE_ACTIONS, default="keep"))


class UnitDecisionForm(Form):
    """What to do with a name that matches no unit."""

    name = HiddenField()
    choice = SelectField("处理", choices=[], validate_choice=False)


class ImportReviewForm(FlaskForm):
    """Step two: the preview the administrator edits and confirms; `state` is the signed recognised structure."""

    state = HiddenField()
    title = StringField(
        "方案标题", validators=[DataRequired("请填写方案标题"), Length(max=200, message="方案标题不能超过200字")]
    )
    year = YearField("年度", validators=[DataRequired("请填写年度"), NumberRange(2000, 2100, "年度须为2000至2100年")])
    district = StringField("地区", validators=[Optional(), Length(max=64, message="地区名称不能超过64字")])
    tasks = FieldList(FormField(TaskReviewForm))
    units = FieldList(FormField(UnitDecisionForm))
    action = HiddenField()

    def task_edits(self) -> list[dict]:
        return [t.form.data for t in self.tasks]

    def decisions(self) -> dict[str, str]:
        return {u.form.data["name"]: u.form.data["choice"] for u in self.units if u.form.data["name"]}

    def messages(self) -> list[str]:
        out: list[str] = []

        def walk(errors):
            if isinstance(errors, dict):
                for v in errors.values():
                    walk(v)
            elif isinstance(errors, list):
                for v in errors:
                    if isinstance(v, dict | list):
                        walk(v)
                    else:
                        out.append(str(v))

        walk(self.errors)
        return list(dict.fromkeys(out))
