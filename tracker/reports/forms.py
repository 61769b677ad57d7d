"""Report forms."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class RegenerateForm(FlaskForm):
    reason = TextAreaField("重新生成理由", validators=[DataRequired("请填写理由"), Length(max=500)])
