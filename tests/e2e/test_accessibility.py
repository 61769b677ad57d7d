"""In a real browser, the demo district as each role sees it: axe-core (WCAG 2.0 and 2.1, levels A and AA) over
the login page and every page the role's menu offers plus one page of each kind linked from them, at 1440 px and at
390 px; no serious or critical violation is allowed. The menu lists only what the role may open, and no link on any
scanned page answers 403."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from axe_playwright_python.base import AXE_FILE_PATH

from ..conftest import PASSWORD

WIDTHS = ({"width": 1440, "height": 900}, {"width": 390, "height": 844})
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
    "selectors": False,  # a third faster on long tables; a failing page is scanned again for the selectors
}
# files, not pages: PDFs, spreadsheets
DOWNLOAD = re.compile(r"\.pdf$|\.xlsx$|/export$|/template$")

OFFICER_MENU = ["工作台", "实施方案", "报告列表", "两降两升", "考评", "红黄牌", "宣传台账", "联席会议", "督办事项"]
STAFF_MENU = [
    "工作台",
    "实施方案",
    "进展填报",
    "报告列表",
    "两降两升",
    "考评",
    "红黄牌",
    "宣传台账",
    "联席会议",
    "督办事项",
    "报表",
    "审计日志",
]
ADMIN_MENU = STAFF_MENU + [
    "用户管理",
    "单位管理",
    "通知渠道",
    "填报设置",
    "指标管理",
    "宣传台账名录",
    "考评办法",
    "节假日安排",
    "发文字号",
    "导入方案",
]
MENUS = {"reviewer": STAFF_MENU, "town1": OFFICER_MENU, "police": OFFICER_MENU, "admin": ADMIN_MENU}


def _shape(path: str) -> str:
    """A page's kind: its path with every number replaced (the query ignored)."""
    return re.sub(r"\d+", "N", urlsplit(path).path)


def _kind(path: str) -> tuple:
    """A link's kind: the page's kind and the names of its query parameters."""
    return _shape(path), tuple(sorted(parse_qs(urlsplit(path).query)))


def _links(page, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    out = []
    for h in hrefs:
        if not h or h.startswith("#"):
            continue
        url = urljoin(page.url, h)
        if url.startswith(base) and not DOWNLOAD.search(urlsplit(url).path):
            out.append(url[len(base) :])
    return out


def _serious(page, options: dict) -> list[dict]:
    violations = page.evaluate("opts => axe.run(document, opts).then(r => r.violations)", options)
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _scan(page, path: str, contrast_on_phone: bool = True) -> list[str]:
    """The serious and critical violations on the loaded page at each width, one line each. The phone layout moves
    things but changes no colour, so below the menu's pages colour contrast (nine tenths of axe's time on a long
    table) is checked at 1440 px only."""
    found = []
    for size in WIDTHS:
        page.set_viewport_size(size)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        options = AXE_OPTIONS
        if size is not WIDTHS[0] and not contrast_on_phone:
            options = {**AXE_OPTIONS, "rules": {"color-contrast": {"enabled": False}}}
        if _serious(page, options):
            for v in _serious(page, {**options, "selectors": True}):
                where = "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
                found.append(f"{path} @{size['width']}px {v['id']} ({v['impact']}) x{len(v['nodes'])}: {where}")
    page.set_viewport_size(WIDTHS[0])
    return found


def _main_markup(page) -> str:
    """The page's main content without its CSRF tokens: the same for two roles when they see the same thing."""
    return re.sub(r"<input[^>]*csrf_token[^>]*>", "", page.inner_html("main"))


def _statuses(page, paths) -> dict[str, int]:
    """Each path's status as the logged-in user, asked from inside the page (HEAD, redirects not followed)."""
    pairs = page.evaluate(
        """paths => Promise.all(paths.map(p => fetch(p, {method: 'HEAD', redirect: 'manual'})
             .then(r => [p, r.type === 'opaqueredirect' ? 302 : r.status])))""",
        sorted(paths),
    )
    return dict(pairs)


def _open(browser, base: str, username: str | None):
    ctx = browser.new_context(viewport=WIDTHS[0], locale="zh-CN")
    ctx.add_init_script(path=str(AXE_FILE_PATH))
    page = ctx.new_page()
    page.goto(base + "/login")
    if username:
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
    return ctx, page


def test_every_page_each_role_reaches_passes_axe_and_no_link_answers_403(browser, demo_server):
    base = demo_server
    problems: list[str] = []
    ctx, page = _open(browser, base, None)
    problems += _scan(page, "/login")
    ctx.close()
    scanned: dict[str, int] = {}
    # a page whose main content another role's scan already covered is not scanned again: the menu and top bar
    # around it are the role's own, and are scanned on the role's first page
    seen_mains: set[str] = set()
    # the administrator sees the reviewer's pages without the reviewer's buttons: below the menu, only the pages of
    # kinds the reviewer does not reach are opened and scanned again for the administrator
    staff_kinds: set[str] = set()
    for username, menu in MENUS.items():
        ctx, page = _open(browser, base, username)
        # the menu offers exactly what the role may open
        assert page.locator("nav.sidenav a").all_inner_texts() == menu, username
        start = urlsplit(page.url).path
        menu_pages = [start] + _links(page, base, "nav.sidenav a, header.topbar a")
        seen_kinds: set[str] = set()
        shown_links: set[str] = set()
        queue = [(p, True) for p in dict.fromkeys(menu_pages)]
        count = 0
        while queue:
            path, from_menu = queue.pop(0)
            if not from_menu and (_shape(path) in seen_kinds or (username == "admin" and _shape(path) in staff_kinds)):
                continue
            seen_kinds.add(_shape(path))
            response = page.goto(base + path)
            assert response.status == 200, f"{username} {path}: {response.status}"
            main = _main_markup(page)
            if count == 0 or (main not in seen_mains and (username != "admin" or _shape(path) not in staff_kinds)):
                problems += [f"[{username}] {p}" for p in _scan(page, path, contrast_on_phone=from_menu)]
                seen_mains.add(main)
            if username == "reviewer":
                staff_kinds.add(_shape(path))
            count += 1
            links = _links(page, base, "a[href]")
            shown_links.update(links)
            if from_menu:  # one page of each kind the menu's pages link to
                queue += [(p, False) for p in dict.fromkeys(links) if _shape(p) not in seen_kinds]
        if username in ("reviewer", "admin"):  # staff may open any object of a kind: one link of each kind
            shown_links = set({_kind(p): p for p in sorted(shown_links)}.values())
        refused = {p: s for p, s in _statuses(page, shown_links).items() if s in (403, 404, 500)}
        assert not refused, f"{username} is shown links that answer {refused}"
        scanned[username] = count
        ctx.close()
    assert not problems, "axe-core, serious or critical:\n" + "\n".join(problems)
    # a floor, so that a login or menu gone wrong cannot pass by scanning nothing
    assert scanned["reviewer"] >= 20 and scanned["admin"] >= 15 and min(scanned["town1"], scanned["police"]) >= 12, (
        scanned
    )
