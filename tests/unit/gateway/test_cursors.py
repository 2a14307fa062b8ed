"""Search cursors are tamper-evident: only what `Cursor.encode` wrote decodes, and even a correctly signed cursor
whose fields have the wrong shape is refused before Elasticsearch could see it (issue 19)."""

from __future__ import annotations

import base64
import json

import pytest

from services.search import Cursor, CursorError, _cursor_mac


def signed(state: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return f"{payload}.{_cursor_mac(payload)}"


GOOD = {"v": 1, "pit": "abc", "fp": "f" * 16, "o": 0, "a": [1.5, "id-9"], "t": False, "n": 3}


def test_a_signed_cursor_of_the_right_shape_decodes() -> None:
    assert Cursor.decode(signed(GOOD)) == Cursor(pit="abc", fingerprint="f" * 16, after=[1.5, "id-9"], total=3)


@pytest.mark.parametrize("change", [{"pit": 5}, {"pit": ["x"]}, {"fp": None}, {"o": "3"}, {"o": -1}, {"o": 10**9},
                                    {"o": True}, {"a": {"x": 1}}, {"a": [{"x": 1}]}, {"a": [[1]]}, {"a": [1] * 5},
                                    {"a": ["x" * 300]}, {"t": "yes"}, {"n": -1}, {"n": 1.5}, {"v": 2}])
def test_a_signed_cursor_of_the_wrong_shape_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(CursorError):
        Cursor.decode(signed(GOOD | change))


@pytest.mark.parametrize("state", [[1, 2], "x", 5, None])
def test_a_signed_cursor_that_is_no_object_is_refused(state: object) -> None:
    with pytest.raises(CursorError):
        Cursor.decode(signed(state))


def test_an_unsigned_or_re_signed_cursor_is_refused() -> None:
    token = Cursor(pit="abc", fingerprint="f" * 16).encode()
    payload, _, mac = token.partition(".")

    for forged in (payload, payload + ".", "." + mac, payload + "x." + mac, payload + "." + mac[::-1]):
        with pytest.raises(CursorError, match="not one this service issued"):
            Cursor.decode(forged)
