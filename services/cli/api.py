"""The `wenyuan` command as a client of the gateway: which key it sends, and problem+json as messages.

The key is `--key`, else `WENYUAN_CLIENT__API_KEY`; the admin commands (orgs, keys, grants, audit)
then fall back to the operator key `wenyuan admin bootstrap` wrote on this machine.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.settings import get_settings

_given: dict[str, str | None] = {"key": None, "gateway": None}


class ApiError(RuntimeError):
    """The gateway refused: the message is its problem's title and detail."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def configure(key: str | None, gateway: str | None) -> None:
    _given["key"], _given["gateway"] = key, gateway


def gateway_url() -> str:
    return _given["gateway"] or get_settings().gateway.public_url


def api_key(*, operator_fallback: bool = False) -> str | None:
    settings = get_settings()
    if _given["key"]:
        return _given["key"]
    if settings.client.api_key is not None:
        return settings.client.api_key.get_secret_value()
    path = settings.access.operator_key_file
    if operator_fallback and path.exists():
        return path.read_text(encoding="utf-8").strip()
    return None


def call(method: str, path: str, *, operator_fallback: bool = True, **kwargs: Any) -> Any:
    key = api_key(operator_fallback=operator_fallback)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        resp = httpx.request(method, gateway_url() + path, headers=headers, timeout=60, **kwargs)
    except httpx.HTTPError as exc:
        raise ApiError(0, f"gateway unreachable at {gateway_url()}: {exc}") from exc
    if resp.status_code >= 400:
        try:
            body = resp.json()
            message = f"{body.get('title', resp.reason_phrase)}: {body.get('detail', resp.text)}"
        except ValueError:
            message = resp.text
        raise ApiError(resp.status_code, f"{method} {path} → {resp.status_code} {message}")
    return resp.json() if resp.content else None
