"""Local servers the notification tests talk to: a webhook robot on the loopback and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Robot:
    """Answers like a WeCom/DingTalk robot: /ok → errcode 0, /fail → HTTP 500, /slow → no answer in time.
    Checks each payload's shape and, for DingTalk, the 加签 signature."""

    def __init__(self, dingtalk_secret: str = ""):
        self.secret = dingtalk_secret
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                robot.check(url.path, query, payload)
                if url.path.startswith("/fail"):
                    self.send_response(500)
                    self.end_headers()
                    return
                if url.path.startswith("/slow"):
                    time.sleep(1.5)
                body = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def check(self, path: str, query: dict, payload: dict) -> None:
        with self.lock:
            if payload.get("msgtype") != "markdown":
                self.problems.append(f"msgtype {payload.get('msgtype')}")
            md = payload.get("markdown", {})
            if "dingtalk" in path:
                ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
                expected = base64.b64encode(
                    hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()
                ).decode()
                if sign != expected:
                    self.problems.append("bad DingTalk signature")
                if abs(int(ts) / 1000 - time.time()) > 3600:
                    self.problems.append("stale DingTalk timestamp")
                title, text = md.get("title", ""), md.get("text", "")
            else:
                title, text = "", md.get("content", "")
                if set(query) != {"key"}:
                    self.problems.append("WeCom URL carries more than its key")
            subject = text.split("\n", 1)[0].removeprefix("### ")
            self.received.append({"path": path, "subject": subject, "title": title, "text": text})

    def subjects(self, path_prefix: str) -> list[str]:
        return [r["subject"] for r in self.received if r["path"].startswith(path_prefix)]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An aiosmtpd server on the loopback keeping each message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes, policy

                box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        import socket

        with socket.socket() as sock:  # a free port (aiosmtpd checks its server by connecting to the port given)
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.controller.stop()
