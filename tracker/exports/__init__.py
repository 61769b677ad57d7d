"""Every list in Excel: the report list, a month's grid, supervised items, scores with their breakdown, cards with
their rectification, meetings and the audit log, each written from its page's own query (views.py, the 导出Excel
buttons) or from the command line (cli.py, `flask --app tracker export …`), and each export audited."""
