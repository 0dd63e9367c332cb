"""A local HTTP server speaking the parts of Slack the notifier uses, for tests and `make run`.

- **response_url** endpoints (`response_url()` mints one): JSON posts, `replace_original` / `delete_original`
  semantics, at most `max_uses` uses (then 404 `used_url`), `expire()` makes one answer 404 `expired_url`.
- **Web API** under `api_url` (`/api/<method>`): `auth.test`, `conversations.open` (DMs),
  `chat.postMessage` (with `thread_ts`: a reply in that message's thread), `chat.update`, `conversations.replies`
  (a thread: its parent, then the replies), `usergroups.list` and `usergroups.users.list` (groups defined with
  `define_group()`, or `--group S0SRE:sre:U1,U2` standalone), `users.list`, `users.lookupByEmail` and
  `conversations.list`, paginated (`define_user()` / `--user U0ID:name:email`, `define_channel()` /
  `--channel C0ID:name`); bearer-token auth (`invalid_auth` /
  `token_revoked`), per-channel errors (`not_in_channel`, `channel_not_found`).
- **Forms**: `issue_trigger()` (HTTP: `POST /local/trigger`) hands out a `trigger_id` as Slack sends with a slash
  command, good for one `views.open` within `trigger_seconds` (3 s, as Slack's: then `expired_trigger_id`, used:
  `exchanged_trigger_id`, unknown: `invalid_trigger_id`); `views.open` / `views.update` (`hash_conflict` on a
  stale hash) record each view (`views`; HTTP: `POST /local/view` with `{"trigger_id"}` or `{"view_id"}`), and
  `chat.postEphemeral` records a message only `user` sees (`ephemeral()`; HTTP: `POST /local/ephemeral` with
  `{"user", "channel", "since"}`).
- **Home tab**: `views.publish` keeps the latest Home of each user (`homes`; HTTP: `POST /local/home` with `{"user"}`,
  what `slashops home` prints).
- **Scripted failures** (`fail()`): 429 with `Retry-After`, 5xx, or an `ok: false` error, `times` times.
- **Outage** (`down()` … `up()`): every request fails (503 by default) until Slack is back.

Every accepted message is recorded (`messages`), `visible()` shows what a user currently sees through
a response_url, `in_channel()` a channel's top-level messages as they read now, `thread()` a message's replies.
The real slack-sdk clients are pointed at it:

    with FakeSlack() as slack:
        WebClient(token=slack.bot_token, base_url=slack.api_url).chat_postMessage(channel="C1", text="hi")
        WebhookClient(slack.response_url()).send(text="hi")

`python -m tools.fakes.slack --port 3001` runs it standalone and prints each message it receives.
"""

from __future__ import annotations

import argparse
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tools.fakes.server import LocalHttpServer, QuietHandler

DEFAULT_BOT_TOKEN = "xoxb-fake-bot-token"
RESPONSE_URL = "response_url"
MAX_VIEW_BLOCKS = 100
"""Slack refuses a view with more blocks."""
LOCAL_PATHS = frozenset({"/local/trigger", "/local/view", "/local/ephemeral", "/local/home"})
"""The local Slack's own endpoints, for the CLI (`tools.cli.forms`): not Slack's API."""


@dataclass
class Failure:
    """Answer requests to `target` (an API method, `response_url`, or `*`) with this, `times` times."""

    target: str = "*"
    status: int = 500
    error: str | None = None
    retry_after: int | None = None
    times: int = 1

    def matches(self, target: str) -> bool:
        return self.target in ("*", target)


@dataclass
class Posted:
    """One message as Slack accepted it. `via` is `response_url`, `chat.postMessage` or `chat.update`."""

    via: str
    payload: dict[str, Any]
    channel: str = ""
    ts: str = ""
    thread_ts: str = ""
    """For a reply in a thread: the parent message's `ts`."""
    response_url: str = ""
    user: str = ""
    """For `chat.postEphemeral`: the only user who sees it."""
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        return str(self.payload.get("text", ""))

    @property
    def response_type(self) -> str:
        return str(self.payload.get("response_type", "ephemeral"))


@dataclass
class OpenView:
    """A view as Slack keeps it: opened with `trigger_id`, its `hash` changing with every update."""

    id: str
    view: dict[str, Any]
    trigger_id: str
    hash: str
    opened_at: float = field(default_factory=time.time)

    def as_answer(self) -> dict[str, Any]:
        return {**self.view, "id": self.id, "hash": self.hash, "state": {"values": {}}}


@dataclass
class _Hook:
    uses: int = 0
    expired: bool = False
    visible: list[Posted] = field(default_factory=list)


class FakeSlack(LocalHttpServer):
    """The server and its state; thread-safe, on a free port once `start()`ed."""

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        max_uses: int = 5,
        host: str = "127.0.0.1",
        port: int = 0,
        on_message: Callable[[Posted], None] | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.max_uses = max_uses
        self.messages: list[Posted] = []
        self.requests: list[tuple[str, int]] = []
        self.failures: list[Failure] = []
        self.outage: Failure | None = None
        self.channel_errors: dict[str, str] = {}
        self.revoked: set[str] = set()
        self.groups: dict[str, tuple[str, list[str]]] = {}
        """`{group id: (handle, member user ids)}`, as `usergroups.list` / `usergroups.users.list` answer."""
        self.users: dict[str, tuple[str, str]] = {}
        """`{user id: (user name, email)}`, as `users.list` / `users.lookupByEmail` answer."""
        self.channels: dict[str, str] = {}
        """`{channel id: channel name}`, as `conversations.list` answers."""
        self.page_size = 200
        """The most a page of `users.list` / `conversations.list` holds (the request's `limit` can only lower it)."""
        self.views: dict[str, OpenView] = {}
        """Every view opened (`views.open`), as last updated (`views.update`), by id."""
        self.trigger_seconds = 3.0
        """How long a trigger_id stays good for `views.open` (Slack: 3 seconds)."""
        self.homes: dict[str, dict[str, Any]] = {}
        """The latest Home published for each user (`views.publish`), by user id."""
        self.home_publishes: dict[str, int] = {}
        """How many times each user's Home was published."""
        self._triggers: dict[str, tuple[float, bool]] = {}
        self._hooks: dict[str, _Hook] = {}
        self._channels: dict[str, list[Posted]] = {}
        self._threads: dict[tuple[str, str], list[Posted]] = {}
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._on_message = on_message
        self._serve(host, port, _SlackHandler, "fake-slack")

    @property
    def api_url(self) -> str:
        """What `WebClient(base_url=...)` takes (`SLACK_API_URL`)."""
        return f"{self.url}/api/"

    # --- scripting -------------------------------------------------------------------------------------

    def response_url(self) -> str:
        """A fresh response_url, as Slack sends with each slash command."""
        path = f"/commands/T1/{next(self._counter)}/{secrets.token_hex(8)}"
        with self._lock:
            self._hooks[path] = _Hook()
        return self.url + path

    def issue_trigger(self) -> str:
        """A fresh trigger_id, as Slack sends with a slash command or a click: one `views.open`, within 3 s."""
        trigger = f"{int(time.time())}.{next(self._counter)}.{secrets.token_hex(8)}"
        with self._lock:
            self._triggers[trigger] = (time.monotonic(), False)
        return trigger

    def view_for(self, *, trigger_id: str = "", view_id: str = "") -> OpenView | None:
        """The view opened with `trigger_id`, or the view `view_id`, as it is now."""
        with self._lock:
            if view_id:
                return self.views.get(view_id)
            return next((view for view in self.views.values() if view.trigger_id == trigger_id), None)

    def ephemeral(self, user: str, channel: str = "") -> list[Posted]:
        """What `chat.postEphemeral` showed `user` (in `channel`, when given), oldest first."""
        with self._lock:
            return [
                m
                for m in self.messages
                if m.via == "chat.postEphemeral" and m.user == user and (not channel or m.channel == channel)
            ]

    def expire(self, response_url: str) -> None:
        with self._lock:
            self._hooks[urlsplit(response_url).path].expired = True

    def fail(
        self,
        status: int = 500,
        *,
        target: str = "*",
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            self.failures.append(Failure(target, status, error, retry_after, times))

    def down(self, status: int = 503) -> None:
        """Slack unreachable: every request (response_urls and Web API) fails with `status` until `up()`."""
        with self._lock:
            self.outage = Failure("*", status, times=0)

    def up(self) -> None:
        with self._lock:
            self.outage = None

    def set_channel_error(self, channel: str, error: str = "not_in_channel") -> None:
        self.channel_errors[channel] = error

    def revoke(self, token: str | None = None) -> None:
        self.revoked.add(token or self.bot_token)

    def define_user(self, user_id: str, name: str, email: str = "") -> None:
        with self._lock:
            self.users[user_id] = (name, email)

    def define_channel(self, channel_id: str, name: str) -> None:
        with self._lock:
            self.channels[channel_id] = name

    def define_group(self, group_id: str, handle: str, members: list[str]) -> None:
        """A user group (`S…`) with its handle (no `@`) and members; defining it again replaces it."""
        with self._lock:
            self.groups[group_id] = (handle, list(members))

    # --- what users see ----------------------------------------------------------------------------------

    def uses(self, response_url: str) -> int:
        with self._lock:
            return self._hooks[urlsplit(response_url).path].uses

    def visible(self, response_url: str) -> list[Posted]:
        """The messages this response_url's user currently sees (replaced ones are gone)."""
        with self._lock:
            return list(self._hooks[urlsplit(response_url).path].visible)

    def in_channel(self, channel: str) -> list[Posted]:
        """Top-level messages the bot posted in `channel` (a `D…` id for DMs), after `chat.update`s."""
        with self._lock:
            return list(self._channels.get(channel, []))

    def thread(self, channel: str, ts: str) -> list[Posted]:
        """The replies in the thread of the message `ts` in `channel`, oldest first."""
        with self._lock:
            return list(self._threads.get((channel, ts), []))

    def transcript(self) -> str:
        return "\n".join(_line(m) for m in self.messages)

    # --- behaviour (called by the request handler) -------------------------------------------------------

    def _take_failure(self, target: str) -> Failure | None:
        with self._lock:
            if self.outage is not None:
                return self.outage
            for failure in self.failures:
                if failure.matches(target):
                    failure.times -= 1
                    if failure.times <= 0:
                        self.failures.remove(failure)
                    return failure
        return None

    def _record(self, posted: Posted) -> None:
        self.messages.append(posted)
        if self._on_message is not None:
            self._on_message(posted)

    def _post_to_hook(self, path: str, payload: dict[str, Any]) -> tuple[int, str]:
        with self._lock:
            hook = self._hooks.get(path)
            if hook is None:
                return 404, "no_service"
            if hook.expired:
                return 404, "expired_url"
            if hook.uses >= self.max_uses:
                return 404, "used_url"
            hook.uses += 1
            posted = Posted(RESPONSE_URL, payload, response_url=self.url + path)
            if payload.get("delete_original"):
                hook.visible[-1:] = []
            elif payload.get("replace_original") and hook.visible:
                hook.visible[-1] = posted
            else:
                hook.visible.append(posted)
            self._record(posted)
        return 200, "ok"

    def _api(self, method: str, token: str, params: dict[str, Any]) -> dict[str, Any]:
        if token != self.bot_token:
            return {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        if token in self.revoked:
            return {"ok": False, "error": "token_revoked"}
        handler = {
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update_message,
            "conversations.replies": self._conversations_replies,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.list": self._conversations_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.publish": self._views_publish,
        }.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(params)

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self.url, "team": "Fake", "team_id": "T1", "user_id": "UBOT", "bot_id": "B1"}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": "D" + users.split(",")[0].lstrip("UW")}}

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        problem = self._channel_problem(channel, params)
        if problem:
            return {"ok": False, "error": problem}
        ts = f"{int(time.time())}.{next(self._counter):06d}"
        thread_ts = str(params.get("thread_ts") or "")
        posted = Posted("chat.postMessage", _message_fields(params), channel=channel, ts=ts, thread_ts=thread_ts)
        with self._lock:
            if thread_ts:  # Slack keeps a reply out of the channel's history: it is listed in its thread
                if not any(message.ts == thread_ts for message in self._channels.get(channel, [])):
                    return {"ok": False, "error": "thread_not_found"}
                self._threads.setdefault((channel, thread_ts), []).append(posted)
            else:
                self._channels.setdefault(channel, []).append(posted)
            self._record(posted)
        message = {**posted.payload, "ts": ts, **({"thread_ts": thread_ts} if thread_ts else {})}
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        with self._lock:
            shown = self._channels.get(channel, [])
            index = next((i for i, m in enumerate(shown) if m.ts == ts), None)
            if index is None:
                return {"ok": False, "error": "message_not_found"}
            posted = Posted("chat.update", _message_fields(params), channel=channel, ts=ts)
            shown[index] = posted
            self._record(posted)
        return {"ok": True, "channel": channel, "ts": ts}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        with self._lock:
            parent = next((m for m in self._channels.get(channel, []) if m.ts == ts), None)
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            replies = list(self._threads.get((channel, ts), []))
        listed = [{**parent.payload, "ts": ts, "thread_ts": ts, "reply_count": len(replies)}]
        listed += [{**reply.payload, "ts": reply.ts, "thread_ts": ts} for reply in replies]
        return {"ok": True, "messages": listed, "has_more": False}

    def _usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            listed = [
                {"id": group_id, "handle": handle, "name": handle, "user_count": len(members)}
                for group_id, (handle, members) in self.groups.items()
            ]
        return {"ok": True, "usergroups": listed}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group_id = str(params.get("usergroup", ""))
        with self._lock:
            group = self.groups.get(group_id)
        if group is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(group[1])}

    def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            members = [
                {"id": user_id, "name": name, "deleted": False, "profile": {"display_name": name}}
                for user_id, (name, _) in self.users.items()
            ]
        return self._paged("members", members, params)

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", ""))
        with self._lock:
            found = [(user_id, name) for user_id, (name, known) in self.users.items() if known and known == email]
        if not found:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": found[0][0], "name": found[0][1], "deleted": False}}

    def _conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            listed = [
                {"id": channel_id, "name": name, "is_archived": False} for channel_id, name in self.channels.items()
            ]
        return self._paged("channels", listed, params)

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger, view = str(params.get("trigger_id", "")), _json_field(params.get("view"))
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            issued = self._triggers.get(trigger)
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if issued[1]:
                return {"ok": False, "error": "exchanged_trigger_id"}
            if time.monotonic() - issued[0] > self.trigger_seconds:
                return {"ok": False, "error": "expired_trigger_id"}
            self._triggers[trigger] = (issued[0], True)
            opened = OpenView(f"V{next(self._counter):08d}", view, trigger, secrets.token_hex(6))
            self.views[opened.id] = opened
        return {"ok": True, "view": opened.as_answer()}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id, view = str(params.get("view_id", "")), _json_field(params.get("view"))
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            current = self.views.get(view_id)
            if current is None:
                return {"ok": False, "error": "not_found"}
            if params.get("hash") and params["hash"] != current.hash:
                return {"ok": False, "error": "hash_conflict"}
            current.view, current.hash = view, secrets.token_hex(6)
            return {"ok": True, "view": current.as_answer()}

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, user = str(params.get("channel", "")), str(params.get("user", ""))
        problem = self._channel_problem(channel, params) or ("user_not_in_channel" if not user else None)
        if problem:
            return {"ok": False, "error": problem}
        posted = Posted("chat.postEphemeral", _message_fields(params), channel=channel, user=user)
        with self._lock:
            self._record(posted)
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._counter):06d}"}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A user's Home: `type` home, at most 100 blocks (Slack refuses more); the latest kept per user."""
        user, view = str(params.get("user_id", "")), _json_field(params.get("view"))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        if not isinstance(view, dict) or view.get("type") != "home" or len(view.get("blocks") or []) > MAX_VIEW_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            self.homes[user] = view
            self.home_publishes[user] = self.home_publishes.get(user, 0) + 1
        return {"ok": True, "view": {"id": f"VHOME{user}", "type": "home", **view}}

    def _paged(self, key: str, items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        """Slack's cursor pagination: `limit` (at most `page_size`), `cursor`, `response_metadata.next_cursor`."""
        cursor = str(params.get("cursor") or "")
        start = int(cursor.removeprefix("offset:")) if cursor.startswith("offset:") else 0
        size = max(1, min(int(params.get("limit") or self.page_size), self.page_size))
        following = start + size
        next_cursor = f"offset:{following}" if following < len(items) else ""
        return {"ok": True, key: items[start:following], "response_metadata": {"next_cursor": next_cursor}}

    def _channel_problem(self, channel: str, params: dict[str, Any]) -> str | None:
        if not channel:
            return "channel_not_found"
        if not params.get("text") and not params.get("blocks"):
            return "no_text"
        return self.channel_errors.get(channel)


def _json_field(value: Any) -> Any:
    """A JSON argument as a form-encoded client sends it (a string), or as a JSON body carries it."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _message_fields(params: dict[str, Any]) -> dict[str, Any]:
    blocks = params.get("blocks")
    if isinstance(blocks, str):  # form-encoded clients send blocks as a JSON string
        blocks = json.loads(blocks)
    return {"text": params.get("text", ""), "blocks": blocks or []}


class _SlackHandler(QuietHandler):
    fake: FakeSlack

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = path.removeprefix("/api/") if path.startswith("/api/") else RESPONSE_URL
        failure = self.fake._take_failure(target)
        if failure is not None:
            self._fail(failure)
        elif path in LOCAL_PATHS:
            self._local(path, body)
        elif target == RESPONSE_URL:
            self._response_url(path, body)
        else:
            self._web_api(target, body)

    def _fail(self, failure: Failure) -> None:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        if failure.error is not None:
            self._send_json(failure.status, {"ok": False, "error": failure.error}, headers)
        elif failure.status == 429:
            self._send_json(429, {"ok": False, "error": "ratelimited"}, headers)
        else:
            self._send(failure.status, b"Internal Server Error", "text/plain", headers)

    def _local(self, path: str, body: bytes) -> None:
        """What the CLI asks the local Slack (Slack has no such API): a trigger_id to send, a view to show."""
        if path == "/local/trigger":
            self._send_json(200, {"ok": True, "trigger_id": self.fake.issue_trigger()})
            return
        asked = json.loads(body or b"{}")
        if path == "/local/ephemeral":
            shown = self.fake.ephemeral(str(asked.get("user", "")), str(asked.get("channel", "")))
            since = float(asked.get("since") or 0)
            self._send_json(200, {"ok": True, "messages": [m.payload for m in shown if m.at >= since]})
            return
        if path == "/local/home":  # the latest Home published for `user` (`slashops home`)
            user = str(asked.get("user", ""))
            home, published = self.fake.homes.get(user), self.fake.home_publishes.get(user, 0)
            self._send_json(200, {"ok": True, "view": home or {}, "published": published})
            return
        found = self.fake.view_for(trigger_id=str(asked.get("trigger_id", "")), view_id=str(asked.get("view_id", "")))
        if found is None:
            self._send_json(404, {"ok": False, "error": "not_found"})
        else:
            self._send_json(200, {"ok": True, "view": found.as_answer()})

    def _response_url(self, path: str, body: bytes) -> None:
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            self._send(400, b"invalid_payload", "text/plain")
            return
        status, text = self.fake._post_to_hook(path, payload)
        self._send(status, text.encode(), "text/html")

    def _web_api(self, method: str, body: bytes) -> None:
        params: dict[str, Any]
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            params = json.loads(body or b"{}")
        else:
            params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or params.get("token", "")
        self._send_json(200, self.fake._api(method, str(token), params))

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.fake.requests.append((self.path, status))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local Slack (response_url + Web API) for slashops.")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--token", default=DEFAULT_BOT_TOKEN)
    parser.add_argument(
        "--group", action="append", default=[], metavar="ID:HANDLE:U1,U2", help="a user group (repeatable)"
    )
    parser.add_argument("--user", action="append", default=[], metavar="ID:NAME[:EMAIL]", help="a user (repeatable)")
    parser.add_argument("--channel", action="append", default=[], metavar="ID:NAME", help="a channel (repeatable)")
    options = parser.parse_args(argv)
    slack = FakeSlack(bot_token=options.token, port=options.port, on_message=_print_message)
    for group in options.group:
        group_id, handle, members = (group.split(":", 2) + ["", ""])[:3]
        slack.define_group(group_id, handle, [member for member in members.split(",") if member])
    for user in options.user:
        user_id, name, email = (user.split(":", 2) + ["", ""])[:3]
        slack.define_user(user_id, name, email)
    for channel in options.channel:
        channel_id, _, name = channel.partition(":")
        slack.define_channel(channel_id, name.removeprefix("#"))
    print(f"fake Slack on {slack.url} (SLACK_API_URL={slack.api_url}, SLACK_BOT_TOKEN={options.token})", flush=True)
    with slack:
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


def _print_message(posted: Posted) -> None:
    """What `make run` shows: each message (a thread reply indented under its parent's ts), and its buttons as the
    `bin/slashops click` commands that press them."""
    print(_line(posted), flush=True)
    for shown in block_lines(posted.payload):
        print(f"    {shown}", flush=True)
    for button in _buttons(posted.payload):
        label = button.get("text", {}).get("text", "") if isinstance(button.get("text"), dict) else ""
        press = f"bin/slashops click {button['action_id']} --value {button.get('value', '')}"
        if posted.channel:
            press += f" --channel {posted.channel} --message-ts {posted.ts}"
        print(f"    [{label}] → {press} --as <user id>", flush=True)


def _line(posted: Posted) -> str:
    where = posted.channel or posted.response_type
    if posted.user:
        where = f"{where}, only {posted.user} sees it"
    if posted.thread_ts:
        return f"  ↳ [thread of {posted.thread_ts} in {where}] {posted.text}"
    stamp = f" ts={posted.ts}" if posted.ts else ""
    return f"[{posted.via} {where}{stamp}] {posted.text}"


def block_lines(payload: dict[str, Any]) -> list[str]:
    """The text of every section, context and header block, line by line, as a person reads the message in Slack
    (the `text` alone is only the notification: a failed build's console tail, a hint, live in the blocks)."""
    lines: list[str] = []
    for block in payload.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        parts = [block.get("text")] + [
            element for element in block.get("elements") or [] if block.get("type") == "context"
        ]
        for part in parts:
            shown = part.get("text") if isinstance(part, dict) else None
            if isinstance(shown, str) and shown.strip():
                lines.extend(line for line in shown.splitlines() if line.strip())
    return lines


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = payload.get("blocks") or []
    return [
        element
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "actions"
        for element in block.get("elements", [])
        if isinstance(element, dict) and element.get("action_id")
    ]


if __name__ == "__main__":
    main()
