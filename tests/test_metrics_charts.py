"""The bar chart of the 两降两升 pages (a bar per town, last year's beneath): every name, label and unit escaped
wherever it is written, figures with their decimal places and thousands separators."""

from __future__ import annotations

from decimal import Decimal

from tracker.metrics.charts import Bar, bar_chart


def test_bar_chart_escapes_names_labels_and_units_in_text_and_titles():
    svg = str(
        bar_chart(
            "各镇",
            [
                Bar("柳溪<镇>&", 12345, 20, "good", True),
                Bar("云岭镇", None, Decimal("5.5")),
                Bar("白沙镇", Decimal("1.25"), None, "bad"),
            ],
            "<万元>",
            2,
            current_label='本期"',
            previous_label="去年&同期",
        )
    )
    assert "<镇>" not in svg and "<万元>" not in svg
    # the highlighted town's name in bold, its figure and last year's as tooltips and the figure beside the bar
    assert 'font-weight="bold">柳溪&lt;镇&gt;&amp;</text>' in svg
    assert "<title>柳溪&lt;镇&gt;&amp;本期&#34;:12,345.00&lt;万元&gt;</title>" in svg
    assert 'fill="#2f7d32">12,345.00&lt;万元&gt;</text>' in svg
    assert "<title>柳溪&lt;镇&gt;&amp;去年&amp;同期:20.00&lt;万元&gt;</title>" in svg
    # a town without this span's figure: 无数据, and still last year's bar
    assert 'fill="#6b7785">无数据</text>' in svg and "<title>云岭镇去年&amp;同期:5.50&lt;万元&gt;</title>" in svg
    # a worse figure in red, without last year's bar
    assert 'fill="#c62828">1.25&lt;万元&gt;</text>' in svg and "白沙镇去年" not in svg


def test_whole_numbers_keep_their_thousands_separators():
    svg = str(bar_chart("发案数", [Bar("青石镇", 1234567, 7)], "起"))
    assert "<title>青石镇本期:1,234,567起</title>" in svg and "<title>青石镇去年同期:7起</title>" in svg
    assert 'text-anchor="end" fill="#1f2933">青石镇</text>' in svg  # not highlighted: not bold
