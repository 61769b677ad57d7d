"""In a real browser, the demo district as each role sees it: axe-core (WCAG 2.0 and 2.1, levels A and AA) over
the login page and every page the role's menu offers plus one page of each kind linked from them, at 1440 px and at
390 px; no serious or critical violation is allowed. The menu lists only what the role may open, and no link on any
scanned page answers 403."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from axe_playwright_python.base import AXE_FILE_PATH

from ..conftest import PASSWORD
from .conftest import submit

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
        submit(page, "button[type=submit]")
    return ctx, page


class Crawl:
    """What the roles' scans before this one covered: the main contents scanned (a page whose main content another
    role's scan already covered is not scanned again: the menu and top bar around it are the role's own, and are
    scanned on the role's first page) and the kinds of page the reviewer reached (the administrator sees the
    reviewer's pages without the reviewer's buttons: below the menu, only the pages of kinds the reviewer does not
    reach are opened and scanned again for the administrator)."""

    def __init__(self, browser, base: str):
        self.browser, self.base = browser, base
        self.seen_mains: set[str] = set()
        self.staff_kinds: set[str] = set()

    def role(self, username: str, scan: bool) -> tuple[list[str], int, set[str], object]:
        """Open every page of the role's menu and one page of each kind they link to; with `scan`, run axe on
        those not covered before. Gives the problems, the pages opened, the links shown, and the open page."""
        base, problems = self.base, []
        ctx, page = _open(self.browser, base, username)
        # the menu offers exactly what the role may open
        assert page.locator("nav.sidenav a").all_inner_texts() == MENUS[username], username
        start = urlsplit(page.url).path
        menu_pages = [start] + _links(page, base, "nav.sidenav a, header.topbar a")
        seen_kinds: set[str] = set()
        shown_links: set[str] = set()
        queue = [(p, True) for p in dict.fromkeys(menu_pages)]
        count = 0
        staff = username == "admin" and self.staff_kinds
        while queue:
            path, from_menu = queue.pop(0)
            if not from_menu and (_shape(path) in seen_kinds or (staff and _shape(path) in self.staff_kinds)):
                continue
            seen_kinds.add(_shape(path))
            response = page.goto(base + path)
            assert response.status == 200, f"{username} {path}: {response.status}"
            main = _main_markup(page)
            if count == 0 or (main not in self.seen_mains and not (staff and _shape(path) in self.staff_kinds)):
                if scan:
                    problems += [f"[{username}] {p}" for p in _scan(page, path, contrast_on_phone=from_menu)]
                self.seen_mains.add(main)
            if username == "reviewer":
                self.staff_kinds.add(_shape(path))
            count += 1
            links = _links(page, base, "a[href]")
            shown_links.update(links)
            if from_menu:  # one page of each kind the menu's pages link to
                queue += [(p, False) for p in dict.fromkeys(links) if _shape(p) not in seen_kinds]
        return problems, count, shown_links, (ctx, page)


def test_the_login_page_passes_axe(browser, demo_server):
    ctx, page = _open(browser, demo_server, None)
    problems = _scan(page, "/login")
    ctx.close()
    assert not problems, "axe-core, serious or critical:\n" + "\n".join(problems)


# a floor, so that a login or menu gone wrong cannot pass by scanning nothing
FLOORS = {"reviewer": 20, "town1": 12, "police": 12, "admin": 15}


@pytest.mark.parametrize("username", list(MENUS))
def test_every_page_the_role_reaches_passes_axe_and_no_link_answers_403(browser, demo_server, username):
    """Each role in its own test, so that the roles' scans can run in parallel. The roles before it in MENUS are
    crawled again without axe, so that the pages their scans covered are known and skipped exactly as in one crawl
    of all the roles."""
    crawl = Crawl(browser, demo_server)
    for before in list(MENUS)[: list(MENUS).index(username)]:
        _, _, _, (ctx, _page) = crawl.role(before, scan=False)
        ctx.close()
    problems, count, shown_links, (ctx, page) = crawl.role(username, scan=True)
    if username in ("reviewer", "admin"):  # staff may open any object of a kind: one link of each kind
        shown_links = set({_kind(p): p for p in sorted(shown_links)}.values())
    refused = {p: s for p, s in _statuses(page, shown_links).items() if s in (403, 404, 500)}
    ctx.close()
    assert not refused, f"{username} is shown links that answer {refused}"
    assert not problems, "axe-core, serious or critical:\n" + "\n".join(problems)
    assert count >= FLOORS[username], (username, count)
