"""Resumption tokens: self-contained, tamper-evident, bound to one list and one caller.

A token is `<payload>.<mac>`: the payload is base64url JSON of everything the next page needs — the
verb and its arguments (a request with a token carries no others), the point in time the list is
walked in, the search_after position, how many items came before (`cursor`), the size of the whole
list, when the token expires, and a hash of the caller (a token serves only the caller it was made
for: another caller could see other records). The mac is an HMAC-SHA256 of the payload under the
repository's key, so a token that was altered, or made by another repository, is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from typing import Any

VERSION = 1
MAC_BYTES = 16


class TokenError(ValueError):
    """A token that is malformed, altered, expired, or not this caller's or this verb's."""


@dataclass(frozen=True)
class ListArguments:
    """The arguments of a ListIdentifiers / ListRecords request, which a token stands for."""

    verb: str
    metadata_prefix: str
    set_spec: str | None = None
    from_: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Position:
    """Where a list stands after a page."""

    pit: str
    after: list[Any]  # sort values of the last item sent
    cursor: int  # items sent before the next page
    complete_list_size: int
    expires: int  # Unix time


def caller_hash(fingerprint: str) -> str:
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def encode(key: bytes, args: ListArguments, position: Position, caller: str) -> str:
    body = {"v": VERSION, "a": asdict(args), "p": asdict(position), "c": caller}
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_mac(key, payload)}"


def decode(key: bytes, token: str, *, verb: str, caller: str, now: float | None = None
           ) -> tuple[ListArguments, Position]:
    """The list and position a token stands for; TokenError if it is not valid for this request."""
    payload, _, mac = token.partition(".")
    if not payload or not mac or not hmac.compare_digest(mac, _mac(key, payload)):
        raise TokenError("this resumptionToken was not issued by this repository, or was altered")
    try:
        body = json.loads(_unb64(payload))
        if body.get("v") != VERSION:
            raise TokenError("this resumptionToken was issued by another version of the repository")
        args = ListArguments(**body["a"])
        position = Position(**body["p"])
        caller_of_token = str(body["c"])
    except TokenError:
        raise
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise TokenError("this resumptionToken cannot be read") from exc
    if args.verb != verb:
        raise TokenError(f"this resumptionToken continues a {args.verb} list, not {verb}")
    if not hmac.compare_digest(caller_of_token, caller):
        raise TokenError("this resumptionToken was issued to another caller (send the same API key, or none)")
    if position.expires < (time.time() if now is None else now):
        raise TokenError("this resumptionToken has expired; start the list again")
    return args, position
