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
    FIELD_TOO_LONG = "field-too-long"  # a value over its ingest.max_*_chars limit
    NUL_CHARACTER = "nul-character"  # U+0000 in a column name or value
    TOO_DEEP = "too-deeply-nested"  # JSON nested beyond manifest.MAX_DEPTH
    # the files
    MEDIA_MISSING = "media-missing"
    MEDIA_UNLISTED = "media-unlisted"
    EMPTY_FILE = "empty-file"
    TOO_LARGE = "too-large"
    NOT_AN_IMAGE = "not-an-image"
    TRUNCATED = "truncated"
    DECOMPRESSION_BOMB = "decompression-bomb"
    UNSUPPORTED_FORMAT = "unsupported-format"
    EXTENSION_MISMATCH = "extension-mismatch"  # the name says one kind of file, the bytes another
    ZERO_DURATION = "zero-duration"  # audio or video with no playable time
    TOO_LONG = "too-long"  # audio or video longer than media.max_duration_s
    TOO_MANY_PAGES = "too-many-pages"  # a document over media.max_pages
    TOO_MANY_FACES = "too-many-faces"  # a 3D model over media.max_faces (as its header declares)
    # warnings: the item is stored, but something in it was not understood
    DATE_UNPARSED = "date-unparsed"  # 年代/具体年代 could not be read as years
    # the pipeline
    INDEX_FAILED = "index-failed"  # stored, but Elasticsearch refused the document
    INTERNAL = "internal-error"
