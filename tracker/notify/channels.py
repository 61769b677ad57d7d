"""Sending one message through one channel: WeCom group robot, DingTalk robot (加签) or e-mail over SMTP.

Webhook keys and secrets never reach a log line or an error message: errors name the HTTP status or the robot's
own error code only, and anything that still echoes the target is masked before it is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from email.utils import formataddr

from .models import DINGTALK, EMAIL, WECOM, Channel, mask


class SendError(Exception):
    """The channel refused or did not answer; the message says why, without the key or secret."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: Base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_url(target: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return target
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, ts))
    return f"{target}{'&' if '?' in target else '?'}timestamp={ts}&sign={sign}"


def _post_json(url: str, payload: dict, timeout: float) -> dict:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SendError("地址须以 http:// 或 https:// 开头")  # never file:// or another scheme
    data = json.dumps(payload, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # nosec B310 - the scheme is checked just before
            body = resp.read(65536)
    except urllib.error.HTTPError as e:
        raise SendError(f"HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise SendError(f"无法连接:{type(e.reason).__name__} {e.reason}") from None
    except TimeoutError:
        raise SendError("超时未应答") from None
    except OSError as e:
        raise SendError(f"网络错误:{type(e).__name__}") from None
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        raise SendError("应答不是 JSON") from None
    if not isinstance(answer, dict):
        raise SendError("应答格式无效")
    if answer.get("errcode", 0) not in (0, "0"):
        raise SendError(f"机器人拒收:errcode {answer.get('errcode')} {str(answer.get('errmsg', ''))[:100]}")
    return answer


def wecom_payload(subject: str, body: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": f"### {subject}\n{body}"}}


def dingtalk_payload(subject: str, body: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": subject, "text": f"### {subject}\n{body}"}}


def send_email(config: dict, to: str, subject: str, body: str, timeout: float) -> None:
    url = config.get("SMTP_URL")
    if not url:
        raise SendError("未配置 TRACKER_SMTP_URL")
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("smtp", "smtps"):
        raise SendError("TRACKER_SMTP_URL 须为 smtp:// 或 smtps://")
    msg = EmailMessage()
    sender = config.get("MAIL_FROM") or "tracker@localhost"
    msg["From"] = formataddr(("反诈督办台账", sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    query = urllib.parse.parse_qs(u.query)
    try:
        if u.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(u.hostname, u.port or 465, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(u.hostname, u.port or 25, timeout=timeout)
        with smtp:
            if query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                smtp.starttls(context=ssl.create_default_context())
            if u.username:
                smtp.login(urllib.parse.unquote(u.username), urllib.parse.unquote(u.password or ""))
            smtp.send_message(msg)
    except smtplib.SMTPResponseException as e:
        raise SendError(f"邮件服务器拒收:{e.smtp_code}") from None
    except smtplib.SMTPException as e:
        raise SendError(f"邮件发送失败:{type(e).__name__}") from None
    except TimeoutError:
        raise SendError("邮件服务器超时未应答") from None
    except OSError as e:
        raise SendError(f"无法连接邮件服务器:{type(e).__name__}") from None


def send(channel: Channel, subject: str, body: str, config: dict) -> None:
    """Deliver one message; raise SendError with a reason safe to store and show."""
    timeout = float(config.get("NOTIFY_TIMEOUT", 10))
    try:
        if channel.kind == WECOM:
            _post_json(channel.target, wecom_payload(subject, body), timeout)
        elif channel.kind == DINGTALK:
            _post_json(dingtalk_url(channel.target, channel.secret), dingtalk_payload(subject, body), timeout)
        elif channel.kind == EMAIL:
            send_email(config, channel.target, subject, body, timeout)
        else:
            raise SendError(f"未知的渠道类型 {channel.kind}")
    except SendError as e:
        raise SendError(scrub(str(e), channel)) from None


def scrub(text: str, channel: Channel) -> str:
    """Mask the channel's key and secret wherever a message might still repeat them."""
    for secret in (channel.secret, channel.target if channel.kind != EMAIL else ""):
        if secret and secret in text:
            text = text.replace(secret, mask(secret))
    return text[:500]
