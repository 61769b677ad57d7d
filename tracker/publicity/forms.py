"""Forms of the register: an activity, the lists, a town's 村/社区, a 无诈 creation and its next step."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .creations import MAX_NAME
from .models import CREATION_KIND_LABELS
from .service import MAX_COMMUNITY, MAX_COUNT, MAX_NOTES, MAX_PLACE

BAD_DATE = "日期无效,应为 2026-10-15 的格式"


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _max(n: int) -> Length:
    return Length(max=n, message=f"不能超过{n}字")


def _count(label: str, required: bool = False):
    checks = [NumberRange(0, MAX_COUNT, f"应在0到{MAX_COUNT}之间")]
    return IntegerField(
        label,
        validators=[InputRequired(f"请填写{label}") if required else Optional(), *checks],
        render_kw={"inputmode": "numeric", "min": 0},
    )


def _coerce_id(value):
    return int(value) if value not in (None, "", "None") else None


class ActivityForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    held_on = DateField("活动日期", validators=[InputRequired("请填写活动日期")], invalid_value_message=BAD_DATE)
    unit_id = SelectField("开展单位", coerce=_coerce_id, validate_choice=False)
    town_id = SelectField("所在镇(街道)", coerce=_coerce_id, validate_choice=False)
    community = StringField("村(社区)", validators=[_max(MAX_COMMUNITY)])
    place = StringField("活动地点", validators=[DataRequired("请填写活动地点"), _max(MAX_PLACE)])
    target_id = SelectField("宣传对象", coerce=_coerce_id, validate_choice=False)
    form_id = SelectField("宣传形式", coerce=_coerce_id, validate_choice=False)
    fraud_ids = MultiCheckboxField("涉及诈骗类型", coerce=int, validate_choice=False)
    audience = _count("覆盖人数", required=True)
    materials = _count("发放资料(份)")
    apps = _count("现场注册反诈APP(人)")
    task_id = SelectField("服务任务", coerce=_coerce_id, validate_choice=False)
    notes = TextAreaField("备注", validators=[_max(MAX_NOTES)])


class OptionsForm(FlaskForm):
    token = HiddenField()
    target = TextAreaField("宣传对象(每行一项)")
    form = TextAreaField("宣传形式(每行一项)")
    fraud = TextAreaField("涉及诈骗类型(每行一项)")


class CommunitiesForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    names = TextAreaField("村(社区)名单(每行一个)", validators=[Length(max=20000, message="名单过长")])


class UploadForm(FlaskForm):
    file = FileField("Excel 文件(.xlsx)", validators=[FileRequired("请选择要上传的 Excel 文件")])


class ConfirmForm(FlaskForm):
    ticket = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])


class CreationForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    unit_id = SelectField("申报单位", coerce=_coerce_id, validate_choice=False)
    kind = SelectField("创建类型", choices=[(k.value, v) for k, v in CREATION_KIND_LABELS.items()])
    name = StringField("创建对象名称", validators=[DataRequired("请填写创建对象名称"), _max(MAX_NAME)])
    declared_on = DateField("申报日期", validators=[InputRequired("请填写申报日期")], invalid_value_message=BAD_DATE)
    notes = TextAreaField("备注", validators=[_max(1000)])


class AdvanceForm(FlaskForm):
    version = IntegerField(validators=[DataRequired()])
    on = DateField("日期", validators=[InputRequired("请填写日期")], invalid_value_message=BAD_DATE)
