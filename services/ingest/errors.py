"""Stable reason codes of a batch report: one per way an item can be rejected."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # the manifest row
    INVALID_ENCODING = "invalid-encoding"
    UNBALANCED_QUOTE = "unbalanced-quote"
    WRONG_CELL_COUNT = "wrong-cell-count"
    MISSING_FIELD = "missing-field"
    INVALID_VALUE = "invalid-value"
    UNKNOWN_LICENCE = "unknown-licence"
    DUPLICATE_OBJECT_ID = "duplicate-object-id"
    UNSAFE_PATH = "unsafe-path"
    # the files
    MEDIA_MISSING = "media-missing"
    MEDIA_UNLISTED = "media-unlisted"
    EMPTY_FILE = "empty-file"
    TOO_LARGE = "too-large"
    NOT_AN_IMAGE = "not-an-image"
    TRUNCATED = "truncated"
    DECOMPRESSION_BOMB = "decompression-bomb"
    UNSUPPORTED_FORMAT = "unsupported-format"
    # the pipeline
    INTERNAL = "internal-error"
