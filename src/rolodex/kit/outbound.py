"""Outbound HTTP to customers' systems (CRM, bots): safe targets, no redirects, capped bodies."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "Rolodex-Webhooks/1"


class UnsafeTarget(ValueError):
    """A URL that outbound requests must not reach."""


def _forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str, *, allow_private: bool) -> str:
    """Refuse what outbound requests may not reach by its text alone: not https, an IP
    literal or a host name that is loopback, private or link-local. Returns the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("must be an absolute https URL")
    if allow_private:
        return url
    if parts.scheme != "https":
        raise UnsafeTarget("must use https")
    host = parts.hostname.lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise UnsafeTarget("must not point at a local host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return url
    if _forbidden_address(literal):
        raise UnsafeTarget("must not point at a loopback, private or link-local address")
    return url


async def check_resolved(url: str, *, allow_private: bool) -> None:
    """Refuse a URL whose host resolves (now) to a loopback, private or link-local address."""
    check_url(url, allow_private=allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise UnsafeTarget(f"cannot resolve {host}: {exc}") from exc
    for info in infos:
        if _forbidden_address(ipaddress.ip_address(info[4][0])):
            raise UnsafeTarget(f"{host} resolves to a loopback, private or link-local address")


@dataclass(frozen=True)
class Reply:
    """A receiver's answer: status, headers and at most MAX_RESPONSE_BYTES of body."""

    status: int
    body: bytes
    truncated: bool

    @property
    def ok(self) -> bool:
        """2xx (redirects are not followed, so a 3xx is a failure too)."""
        return 200 <= self.status < 300

    def excerpt(self, limit: int = 300) -> str:
        """The start of the body as text, for error messages."""
        return self.body[:limit].decode("utf-8", "replace")


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~40 ms of CPU, on the event loop: once per process.
    return ssl.create_default_context()


def client(timeout: float) -> httpx.AsyncClient:
    """An HTTP client for customers' systems: explicit timeouts, redirects not followed."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        verify=_tls(),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    allow_private: bool,
) -> Reply:
    """One request to a checked target, its body read up to the cap."""
    await check_resolved(url, allow_private=allow_private)
    request = http.build_request(method, url, content=content, data=data, headers=headers)
    basic = httpx.BasicAuth(*auth) if auth is not None else None
    response = await http.send(request, stream=True, auth=basic)
    try:
        chunks: list[bytes] = []
        size = 0
        truncated = False
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                truncated = True
                break
        body = b"".join(chunks)[:MAX_RESPONSE_BYTES]
    finally:
        await response.aclose()
    return Reply(response.status_code, body, truncated)
