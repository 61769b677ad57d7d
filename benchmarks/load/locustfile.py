"""Deadline day: officers log in, open their to-do, and submit this month's reports."""

from __future__ import annotations

import csv
import itertools
import os
import re

from locust import HttpUser, between, events, task

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d*)"')
OWED = re.compile(r'href="(/progress/tasks/\d+/units/\d+/\d{4}-\d{2})">填报')
USERS = itertools.count(1)
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo-2026")
# every request's start (epoch seconds), name and time, so run.sh can report the first minute on its own: the
# deadline-day burst (all logins and most submits) is diluted in a whole run's percentiles
REQUEST_LOG = os.environ.get("LOAD_REQUEST_LOG")
_log_file = open(REQUEST_LOG, "w", newline="") if REQUEST_LOG else None  # noqa: SIM115 (open for the whole run)
_log = csv.writer(_log_file) if _log_file else None


@events.request.add_listener
def _record(request_type, name, response_time, exception=None, start_time=None, **_kwargs) -> None:
    if _log is not None:
        _log.writerow([f"{start_time or 0:.3f}", name, f"{response_time:.1f}", "1" if exception else "0"])


@events.quitting.add_listener
def _close(**_kwargs) -> None:
    if _log_file is not None:
        _log_file.close()


class Officer(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.username = f"load{next(USERS):02d}"
        page = self.client.get("/login", name="/login")
        token = TOKEN.search(page.text).group(1)
        with self.client.post("/login", data={"username": self.username, "password": PASSWORD, "csrf_token": token},
                              name="/login [POST]", allow_redirects=False, catch_response=True) as resp:
            if resp.status_code != 302 or "/login" in resp.headers.get("Location", ""):
                resp.failure(f"login failed for {self.username}: {resp.status_code}")

    @task(3)
    def todo(self) -> None:
        self.client.get("/progress/todo", name="/progress/todo")

    @task(2)
    def submit_a_report(self) -> None:
        todo = self.client.get("/progress/todo", name="/progress/todo")
        owed = OWED.findall(todo.text)
        if not owed:
            return
        url = owed[0]
        page = self.client.get(url, name="/progress/tasks/[report]")
        token = TOKEN.search(page.text).group(1)
        version = VERSION.search(page.text)
        with self.client.post(url, name="/progress/tasks/[report] [POST]", allow_redirects=False, catch_response=True,
                              data={"csrf_token": token, "version": version.group(1) if version else "",
                                    "progress": f"{self.username} 本月开展反诈宣传3场,覆盖居民420人次。",
                                    "completion": "按计划完成", "action": "submit"}) as resp:
            # success is the redirect back to the report; anything else (a form error, 409, 5xx, login) is not
            if resp.status_code != 302 or not resp.headers.get("Location", "").endswith(url):
                resp.failure(f"submit answered {resp.status_code} {resp.headers.get('Location', '')}")
