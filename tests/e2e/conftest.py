"""A live server on a free port and a headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tracker import create_app, jobs, seed

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
# Screenshots go to a temporary folder, so a test run leaves the working tree as it was; `make screenshots`
# points TRACKER_SCREENSHOTS at docs/screenshots to refresh the README's pictures on purpose.
SHOTS = Path(os.environ.get("TRACKER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "tracker-screenshots")

# The demo district's day in the browser tests that read it (China time).
NOW = (2026, 11, 10, 9)


@contextmanager
def serving(db_url: str):
    """Serve the database at db_url on a free port while the block runs; gives the base URL."""
    app = create_app(
        {"DATABASE_URL": db_url, "SECRET_KEY": "e2e-secret-key-0123456789abcdef0123", "RATELIMIT_ENABLED": False}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # a worker for the job queue (Huey's SQLite storage in the test's instance folder), as `make run` starts one
    stop = threading.Event()
    worker = threading.Thread(target=_consume, args=(jobs.queue_for(app).huey, stop), daemon=True)
    worker.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        stop.set()
        worker.join(timeout=30)
        server.shutdown()
        app.extensions["tracker.engine"].dispose()


@pytest.fixture
def live_server(seeded, db_url):
    with serving(db_url) as url:
        yield url


@pytest.fixture
def demo_server(app, db_url, frozen, monkeypatch, demo_districts):
    """The demo district of `make run` (reports, figures, meetings, cards, a published quarter) on 10 November 2026,
    with one month of report history instead of four: the same mix of states, shorter lists to scan (seeded once
    per run, copied into the test's database)."""
    read_json = seed.read_json
    monkeypatch.setattr(
        seed, "read_json", lambda name: {**read_json(name), "months": 1} if name == "demo.json" else read_json(name)
    )
    demo_districts.install(app, NOW, months=1)
    frozen(*NOW)
    with serving(db_url) as url:
        yield url


def _consume(huey, stop) -> None:
    while not stop.is_set():
        task = huey.dequeue()
        if task is None:
            stop.wait(0.1)
        else:
            huey.execute(task)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page_for(browser, live_server):
    """page_for("town1") gives a logged-in page; confirmation dialogs are accepted."""
    contexts = []

    def _open(username: str):
        ctx = browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN")
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        page.goto(live_server + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo-2026")
        submit(page, "button[type=submit]")
        return page

    yield _open
    for c in contexts:
        c.close()


def submit(page, selector: str, **click) -> None:
    """Click what opens a page (a form's button, a link) and wait until that page has loaded: reading the page
    straight after a bare click can catch the new document before it has any content."""
    with page.expect_navigation():
        page.click(selector, **click)


def shot(page, name: str) -> None:
    """Keep a screenshot of a main page (for the README when `make screenshots` runs)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
