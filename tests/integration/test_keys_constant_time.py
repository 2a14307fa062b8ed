"""API keys are checked in constant time (services/access/keys.py): found by prefix, compared as SHA-256 digests with
hmac.compare_digest, and an unknown prefix costs the same digest and comparison as a wrong secret, with the same
answer, so neither the time nor the words of a refusal tell a caller which half of a guess was wrong."""

from __future__ import annotations

import hmac

import pytest

from services.access import keys
from services.access.db import Database
from services.access.errors import InvalidKey
from services.access.models import utcnow
from tests.integration.test_access_store import _member, _org, database  # noqa: F401  (the fixture)

pytestmark = pytest.mark.integration


def test_an_unknown_prefix_costs_the_same_comparison_and_answer_as_a_wrong_secret(
        database: Database, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    _org(database)
    key, _ = _member(database)
    secret = key[12:]  # after "wy_<8 hex>."
    wrong_secret = key[:12] + ("A" if secret[0] != "A" else "B") + secret[1:]
    unknown_prefix = "wy_ffffffff." + secret
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    answers = []
    for guess in (wrong_secret, unknown_prefix):
        with pytest.raises(InvalidKey) as refused, database.session() as s:
            keys.authenticate(s, guess, utcnow())
        answers.append(refused.value.detail)
    with database.session() as s:
        assert keys.authenticate(s, key, utcnow()).prefix == key[:11]

    assert compared == [(64, 64)] * 3  # one digest comparison each, the unknown prefix's included
    assert answers[0] == answers[1]
