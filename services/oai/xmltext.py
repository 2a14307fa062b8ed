"""XML written as text: escaping, and elements with their text or attributes.

A harvest page holds a hundred records of some twenty elements each; building them as lxml trees and
serialising them again cost more than Elasticsearch's own read of the page. Records and headers are
therefore written straight as text (services/oai/records.py, envelope.header), escaped as lxml
escapes them, and spliced into the envelope, which lxml still writes (services/oai/envelope.py).
Text that XML cannot carry (control characters) is refused with ValueError, as lxml refuses it.
The tests validate every response they get against OAI-PMH.xsd and its payload schemas.
"""

from __future__ import annotations

import re

# Characters XML 1.0 cannot carry at all (tab, newline and carriage return it can).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;",
                            "\t": "&#9;"})
_PLAIN = re.compile(r"[^&<>\"\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]*")


def _legal(value: str) -> str:
    if _ILLEGAL.search(value):
        raise ValueError(f"All strings must be XML compatible: {value[:80]!r} holds a control character")
    return value


def text(value: str) -> str:
    """`value` as element content."""
    if _PLAIN.fullmatch(value):
        return value
    return _legal(value).translate(_TEXT)


def attribute(value: str) -> str:
    """`value` as an attribute value (in double quotes)."""
    if _PLAIN.fullmatch(value):
        return value
    return _legal(value).translate(_ATTRIBUTE)


def element(tag: str, content: str | None = None, attributes: dict[str, str] | None = None) -> str:
    """`<tag a="…">content</tag>` (`content` is escaped; None: an empty element)."""
    attrs = "".join(f' {name}="{attribute(value)}"' for name, value in (attributes or {}).items())
    if content is None:
        return f"<{tag}{attrs}/>"
    return f"<{tag}{attrs}>{text(content)}</{tag}>"
