"""Resumption tokens: what they carry comes back; altered, foreign, expired or misused tokens are refused."""

from __future__ import annotations

import pytest

from services.oai import tokens
from services.oai.tokens import ListArguments, Position, TokenError

KEY = b"k" * 32
ARGS = ListArguments("ListRecords", "oai_dc", "institution:palace", "2026-01-01", None)
POSITION = Position(pit="pit-id==", after=[1767225600000, "a1b2"], cursor=100, complete_list_size=250,
                    expires=2_000_000_000)
CALLER = tokens.caller_hash("anonymous:None:None:None:None:")


def test_a_token_gives_back_the_list_and_the_position_it_was_made_for() -> None:
    token = tokens.encode(KEY, ARGS, POSITION, CALLER)

    args, position = tokens.decode(KEY, token, verb="ListRecords", caller=CALLER, now=1_900_000_000)

    assert (args, position) == (ARGS, POSITION)
    assert all(c.isalnum() or c in "-_." for c in token)  # safe in a query string as it is


def test_a_token_with_a_changed_position_is_refused() -> None:
    payload, mac = tokens.encode(KEY, ARGS, POSITION, CALLER).split(".")
    forged = tokens.encode(b"another key", ARGS, Position("pit-id==", [0, ""], 0, 250, 2_000_000_000), CALLER)

    with pytest.raises(TokenError, match="not issued by this repository, or was altered"):
        tokens.decode(KEY, f"{forged.split('.')[0]}.{mac}", verb="ListRecords", caller=CALLER, now=0)
    with pytest.raises(TokenError, match="altered"):
        tokens.decode(KEY, forged, verb="ListRecords", caller=CALLER, now=0)
    with pytest.raises(TokenError):
        tokens.decode(KEY, payload, verb="ListRecords", caller=CALLER, now=0)


def test_a_token_serves_only_its_verb_and_its_caller_and_only_until_it_expires() -> None:
    token = tokens.encode(KEY, ARGS, POSITION, CALLER)

    with pytest.raises(TokenError, match="continues a ListRecords list, not ListIdentifiers"):
        tokens.decode(KEY, token, verb="ListIdentifiers", caller=CALLER, now=0)
    with pytest.raises(TokenError, match="another caller"):
        tokens.decode(KEY, token, verb="ListRecords", caller=tokens.caller_hash("staff:s1:inst:::"), now=0)
    with pytest.raises(TokenError, match="expired"):
        tokens.decode(KEY, token, verb="ListRecords", caller=CALLER, now=POSITION.expires + 1)


@pytest.mark.parametrize("garbage", ["", ".", "abc", "!!!.???", "e30.AAAA"])
def test_garbage_is_not_a_token(garbage: str) -> None:
    with pytest.raises(TokenError):
        tokens.decode(KEY, garbage, verb="ListRecords", caller=CALLER, now=0)
