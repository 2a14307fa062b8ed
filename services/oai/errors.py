"""The protocol's error conditions: each is an `<error code="…">` in a normal (HTTP 200) OAI-PMH response.

Not RFC 9457 problem+json like the rest of the API: OAI-PMH harvesters read errors from the XML.
Failures outside the protocol (a bad API key, the rate limit, a missing scope) stay HTTP errors.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_ARGUMENT = "badArgument"
    BAD_RESUMPTION_TOKEN = "badResumptionToken"
    BAD_VERB = "badVerb"
    CANNOT_DISSEMINATE_FORMAT = "cannotDisseminateFormat"
    ID_DOES_NOT_EXIST = "idDoesNotExist"
    NO_RECORDS_MATCH = "noRecordsMatch"
    NO_METADATA_FORMATS = "noMetadataFormats"
    NO_SET_HIERARCHY = "noSetHierarchy"  # never raised: this repository has sets


# For these two the response's <request> element carries no attributes (OAI-PMH 2.0, section 3.2).
ARGUMENTS_UNTRUSTED = frozenset({ErrorCode.BAD_VERB, ErrorCode.BAD_ARGUMENT})


class OaiError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
