"""In a real browser: the 导出Excel button of a page downloads the list the page shows, with its filters."""

from __future__ import annotations

from openpyxl import load_workbook

from .conftest import shot


def _download(page, tmp_path, name: str):
    with page.expect_download() as info:
        page.click("a.export")
    path = tmp_path / name
    info.value.save_as(path)
    return info.value.suggested_filename, load_workbook(path)


def test_the_grid_and_the_report_list_download_what_they_show(page_for, live_server, frozen, tmp_path):
    frozen(2026, 11, 10, 9)
    office = page_for("reviewer")
    office.goto(f"{live_server}/progress/grid?period=2026-10")
    shot(office, "export-grid")
    units = [t.strip() for t in office.locator("table.grid thead th.unit").all_inner_texts()]
    tasks = office.locator("table.grid tbody tr").count()
    name, wb = _download(office, tmp_path, "grid.xlsx")
    assert name == "grid-2026-10.xlsx"
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    # header: 任务编号, 任务, then the page's units; one row per task and the 逾期未报 row
    assert list(rows[0][2:]) == units and len(units) == 16
    assert len(rows) - 1 == tasks + 1 == 7 and ws.freeze_panes == "A2"

    # an officer's report list, filtered by month: the file holds the page's rows, all of the officer's unit
    town = page_for("town1")
    town.goto(f"{live_server}/progress/reports?period=2026-10")
    shown = town.locator("table.data tbody tr").filter(has=town.locator("a:has-text('查看')")).count()
    name, wb = _download(town, tmp_path, "reports.xlsx")
    assert name == "reports-2026-10.xlsx"
    rows = list(wb.worksheets[0].iter_rows(values_only=True))[1:]
    assert len(rows) == shown > 0 and {r[3] for r in rows} == {"青石镇"}
