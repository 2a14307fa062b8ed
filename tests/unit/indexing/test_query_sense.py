"""indexing/query_sense.py: the gate decided by what the query is, not by how well it matched."""

from __future__ import annotations

import math

import pytest

from indexing.encoders import text_encoder
from indexing.encoders.base import Encoder, info
from indexing.fusion import LegHit
from indexing.query_sense import gate, probe_for
from schemas.asset import EncoderInfo
from services.settings import FusionSettings, ModelSettings


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return text_encoder(ModelSettings())


def _gate(encoder: Encoder, q: str, legs: dict[str, list[LegHit]] | None = None) -> float | None:
    return gate(legs or {}, encoder.encode([q])[0], info(encoder), FusionSettings())


def test_the_packaged_text_encoder_has_a_probe(encoder: Encoder) -> None:
    assert probe_for(info(encoder)) is not None


@pytest.mark.parametrize("q", ["xqzv blorf", "qwertyuiop", "12345 67890", "zzzzzz"])
def test_a_non_word_that_matched_no_term_answers_nothing(encoder: Encoder, q: str) -> None:
    assert _gate(encoder, q) == math.inf


@pytest.mark.parametrize("q", ["camel", "骆驼", "landscape with cows", "青铜鼎", "war"])
def test_words_that_matched_no_term_are_ranked_down_to_the_floor(encoder: Encoder, q: str) -> None:
    assert _gate(encoder, q) is None


def test_a_query_that_matched_a_term_is_never_gated_whatever_it_reads_like(encoder: Encoder) -> None:
    assert _gate(encoder, "xqzv blorf", {"keyword": [LegHit("a", 3.0)]}) is None
    assert _gate(encoder, "xqzv blorf", {"keyword": [], "bridge": [LegHit("a", 1.0)]}) is None


def test_an_encoder_without_a_probe_falls_back_to_the_fused_score_gate(encoder: Encoder) -> None:
    other = EncoderInfo(name="st:some-configured-model", version="1", dimension=512)
    probe = probe_for(info(encoder))

    assert probe_for(other) is None
    assert probe_for(info(encoder).model_copy(update={"version": "another"})) is None
    assert probe is not None
    assert gate({}, encoder.encode(["camel"])[0], other, FusionSettings()) == FusionSettings().gate
