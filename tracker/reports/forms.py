"""Report forms."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class RegenerateForm(FlaskForm):
    reason = TextAreaField("重新生成理由", validators=[DataRequired("请填写理由"), Length(max=500)])


class NumberingForm(FlaskForm):
    prefix = StringField("机关代字", validators=[DataRequired("请填写机关代字"), Length(max=40)])
    year = IntegerField("年份", validators=[DataRequired("请填写年份")])
    next_seq = IntegerField("下一个序号", validators=[DataRequired("请填写下一个序号")])
    copy_to = StringField("抄送", validators=[Optional(), Length(max=300)])
    version = HiddenField()
