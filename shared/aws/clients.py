"""Injected AWS (and other SDK) clients with a lazily built default: the one way every adapter holds its client.

Import time is a Lambda's cold start, and building a boto3 client costs tens of milliseconds and reads the
environment: so an adapter never builds its client in `__init__`, only on first use. Tests (and `make run`) inject
a client pointed at moto or LocalStack instead; an injected client always wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, overload


@dataclass(frozen=True)
class ClientLimits:
    """How long one call may wait and how many times botocore tries it; None keeps botocore's default.

    Callers with a deadline (the ingress answers Slack within 3 s) set all three: botocore's defaults (60 s reads,
    several tries) would spend the whole budget on one call.
    """

    connect_timeout: float | None = None
    read_timeout: float | None = None
    total_max_attempts: int | None = None
    """Including the first try (botocore's `retries.total_max_attempts`, standard retry mode)."""


def bounded_seconds(client: object) -> float | None:
    """The longest one call on a botocore `client` can take by its own limits, or None when they do not bound it.

    Bounded: one try (`total_max_attempts=1`: botocore's retries add backoff waits), a connect timeout and a read
    timeout, counted as the connect and then two full reads (a server that never answers, or that stalls between
    its headers and its body). Not covered: a DNS lookup, and a server that keeps the answer coming a few bytes at a
    time; `shared.deadline.run_within` bounds those only when it hands the call to a worker thread. Any other client
    (a test's fake): None.
    """
    config = getattr(getattr(client, "meta", None), "config", None)
    retries = getattr(config, "retries", None) or {}
    if "total_max_attempts" in retries:
        attempts = retries["total_max_attempts"]
    else:  # botocore's `max_attempts` counts the retries only; absent, botocore tries several times
        attempts = retries["max_attempts"] + 1 if "max_attempts" in retries else None
    connect, read = getattr(config, "connect_timeout", None), getattr(config, "read_timeout", None)
    if attempts != 1 or not isinstance(connect, int | float) or not isinstance(read, int | float):
        return None
    return float(connect) + 2 * float(read)


_BUILDING = threading.Lock()
"""boto3's default session is not thread-safe while it builds clients (a deadline's worker thread, or the local
runner's concurrent pollers, may build their first clients at the same time): one client is built at a time."""


def aws_client(service: str, limits: ClientLimits | None = None) -> Any:
    """A boto3 client for `service` with `limits`; honours `AWS_ENDPOINT_URL_<SERVICE>` (moto/LocalStack locally).

    Typed `Any` so each adapter states its client type once, on its `LazyClient` attribute.
    """
    with _BUILDING:
        return _build_client(service, limits)


def _build_client(service: str, limits: ClientLimits | None) -> Any:
    import boto3

    if limits is None:
        return boto3.client(service)  # type: ignore[call-overload]
    from botocore.config import Config

    options: dict[str, Any] = {}
    if limits.connect_timeout is not None:
        options["connect_timeout"] = limits.connect_timeout
    if limits.read_timeout is not None:
        options["read_timeout"] = limits.read_timeout
    if limits.total_max_attempts is not None:
        options["retries"] = {"total_max_attempts": limits.total_max_attempts, "mode": "standard"}
    return boto3.client(service, config=Config(**options))  # type: ignore[call-overload]


class LazyClient[C]:
    """A descriptor for an adapter's client: the injected one, or one built by `build(adapter)` on first use.

        class SqsQueue:
            client: LazyClient[SQSClient] = LazyClient(lambda queue: aws_client("sqs"))

            def __init__(self, queue_url: str, *, client: SQSClient | None = None) -> None:
                self.client = client  # None: built on first use

    `build` receives the adapter, so per-instance settings (timeouts) reach the default client. The client is
    built at most once per adapter (two threads racing the first use may each build one; the last one stays).
    """

    def __init__(self, build: Callable[[Any], C]) -> None:
        self._build = build
        self._slot = "_lazy_client"

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_lazy_{name}"

    @overload
    def __get__(self, adapter: None, owner: type) -> LazyClient[C]: ...

    @overload
    def __get__(self, adapter: object, owner: type) -> C: ...

    def __get__(self, adapter: object | None, owner: type) -> LazyClient[C] | C:
        if adapter is None:
            return self
        client: C | None = adapter.__dict__.get(self._slot)
        if client is None:
            client = self._build(adapter)
            adapter.__dict__[self._slot] = client
        return client

    def __set__(self, adapter: object, client: C | None) -> None:
        """Inject a client; None leaves (or puts back) the lazily built default."""
        adapter.__dict__[self._slot] = client


# --- Lambda SnapStart (ingress/chalicelib/snapstart.py) -----------------------------------------------------------

_MODELS: list[Any] = []
"""The botocore data loader `load_service_models` filled (its parsed JSON), kept for `fresh_default_session`."""


def load_service_models(services: tuple[str, ...]) -> None:
    """Parse the service models `services` use into boto3's default session, before a SnapStart snapshot: building a
    client is mostly that parse. No credentials are resolved and nothing connects."""
    import boto3
    import botocore.session

    with _BUILDING:
        core = botocore.session.get_session()
        for service in services:
            core.get_service_model(service)
        core.get_component("data_loader").load_data("endpoints")  # what the endpoint resolver reads, parsed once
        _MODELS[:] = [core.get_component("data_loader")]
        boto3.setup_default_session(botocore_session=core)


def fresh_default_session() -> None:
    """A new boto3 default session, after a SnapStart restore: credentials are resolved again (the snapshot's would
    be shared by every environment restored from it, with their age) and clients built from now on share no
    connection pool with the snapshot's. The parsed service models (`load_service_models`) are kept: they are
    read-only data, and re-parsing them is the slow part of building a client."""
    import boto3
    import botocore.session

    with _BUILDING:
        core = botocore.session.get_session()
        if _MODELS:
            core.register_component("data_loader", _MODELS[0])
        boto3.setup_default_session(botocore_session=core)
