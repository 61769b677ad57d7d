"""Forms of the 两降两升 pages: the month grid (one field per cell), upload and confirm, indicator settings."""

from __future__ import annotations

from dataclasses import dataclass

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .entry import EntryGrid
from .models import AGGREGATE_LABELS, DIRECTION_LABELS, MAX_DECIMALS, SCOPE_LABELS
from .values import MAX_REASON, CellKey, Value, fmt


def cell_name(key: CellKey) -> str:
    return f"{key[0]}_{key[1] or 0}"


class GridBase(FlaskForm):
    reason = TextAreaField("更正原因", validators=[Length(max=MAX_REASON, message=f"不能超过{MAX_REASON}字")])
    accept_warnings = BooleanField("已核对,确认保存(标黄的数据按所填保存)")


def grid_form(grid: EntryGrid) -> GridBase:
    """A form with a value, the version seen and the value shown for every cell the user may write."""

    class GridForm(GridBase):
        pass

    for key, cell in grid.cells.items():
        if cell.source is None:
            continue
        n = cell_name(key)
        setattr(GridForm, f"c_{n}", StringField(validators=[Optional(), Length(max=40, message="内容过长")]))
        setattr(GridForm, f"o_{n}", HiddenField())
        setattr(GridForm, f"v_{n}", HiddenField())
        setattr(GridForm, f"w_{n}", HiddenField())  # the figure a plausibility warning was shown for
    return GridForm()


def _int(text) -> int:
    try:
        return int(text or 0)
    except (TypeError, ValueError):
        return -1  # never a real version: the save reports a conflict


def entries(form: GridBase, grid: EntryGrid) -> dict[CellKey, tuple]:
    """What the user typed, the version and the value each cell showed when the page was loaded."""
    out = {}
    for key, cell in grid.cells.items():
        if cell.source is None:
            continue
        n = cell_name(key)
        if f"c_{n}" not in form or form[f"c_{n}"].raw_data is None or not form[f"c_{n}"].raw_data:
            continue  # a cell not sent is not touched
        out[key] = (form[f"c_{n}"].data or "", _int(form[f"v_{n}"].data), form[f"o_{n}"].data or "")
    return out


def confirmed(form: GridBase, grid: EntryGrid) -> dict[CellKey, str]:
    """The figures whose plausibility warning the user saw and confirmed (the box ticked): cell -> figure."""
    if not form.accept_warnings.data:
        return {}
    out = {}
    for key, cell in grid.cells.items():
        n = cell_name(key)
        if cell.source is not None and f"w_{n}" in form and form[f"w_{n}"].data:
            out[key] = form[f"w_{n}"].data
    return out


@dataclass(frozen=True)
class Shown:
    """What one input shows: its text, the value it was loaded with, and the version."""

    text: str
    original: str
    version: int
    typed: bool = False  # the user's own text, kept after a refused save


def shown_cells(
    grid: EntryGrid, form: GridBase | None = None, conflicts: dict[CellKey, Value | None] | None = None
) -> dict[CellKey, Shown]:
    """The inputs' contents: stored figures; after a refused save the user's changed cells keep their text, and
    conflicting cells take the other person's version so a deliberate second save can overwrite it."""
    conflicts = conflicts or {}
    out = {}
    for key, cell in grid.cells.items():
        stored = fmt(cell.value, cell.indicator.decimals)
        n = cell_name(key)
        if form is not None and cell.source is not None and f"c_{n}" in form and form[f"c_{n}"].raw_data:
            typed, original = form[f"c_{n}"].data or "", form[f"o_{n}"].data or ""
            if typed.strip() != original.strip():
                if key in conflicts:
                    out[key] = Shown(typed, stored, cell.version, True)
                else:
                    out[key] = Shown(typed, original, _int(form[f"v_{n}"].data), True)
                continue
        out[key] = Shown(stored, stored, cell.version)
    return out


class UploadForm(FlaskForm):
    file = FileField("Excel 文件(.xlsx)", validators=[FileRequired("请选择要上传的 Excel 文件")])


class ConfirmForm(FlaskForm):
    ticket = HiddenField(validators=[DataRequired()])
    digest = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(
        "更正原因(审核员导入时必填)", validators=[Length(max=MAX_REASON, message=f"不能超过{MAX_REASON}字")]
    )
    accept_warnings = BooleanField("我已逐项核对上面的提示(覆盖原值、疑似单位错误、异常跳变),确认导入")


class IndicatorForm(FlaskForm):
    version = IntegerField(validators=[Optional()])
    code = StringField("指标代码(英文,创建后不可改)", validators=[Optional(), Length(max=32)])
    name = StringField("指标名称", validators=[DataRequired("请填写指标名称"), Length(max=64)])
    unit_label = StringField("计量单位", validators=[DataRequired("请填写计量单位"), Length(max=16)])
    direction = SelectField("方向", choices=list(DIRECTION_LABELS.items()))
    decimals = IntegerField(
        "小数位数",
        default=0,
        validators=[InputRequired("请填写小数位数"), NumberRange(0, MAX_DECIMALS, f"小数位数须为0至{MAX_DECIMALS}")],
    )
    scope = SelectField("填报层级", choices=list(SCOPE_LABELS.items()))
    aggregate = SelectField("全区数与跨月汇总", choices=list(AGGREGATE_LABELS.items()))
    owner_unit_id = SelectField("填报单位", coerce=int, choices=[])
    small_base = IntegerField(
        "小基数(去年同期低于此数时按差值而非百分比比较)",
        default=10,
        validators=[InputRequired("请填写小基数"), NumberRange(0, 100000, "小基数须为0至100000")],
    )
    sort_order = IntegerField("排序", default=0, validators=[Optional()])
    is_active = BooleanField("启用", default=True)
    note = StringField("说明", validators=[Length(max=500)])

    def values(self) -> dict:
        return {
            "code": self.code.data,
            "name": self.name.data,
            "unit_label": self.unit_label.data,
            "direction": self.direction.data,
            "decimals": self.decimals.data,
            "scope": self.scope.data,
            "aggregate": self.aggregate.data,
            "owner_unit_id": self.owner_unit_id.data or None,
            "small_base": self.small_base.data,
            "sort_order": self.sort_order.data or 0,
            "is_active": self.is_active.data,
            "note": self.note.data,
        }
