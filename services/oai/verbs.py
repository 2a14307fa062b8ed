"""The six verbs: a request's arguments in, a whole OAI-PMH response (bytes) out.

`respond(repository, pairs)` checks the arguments as section 3.1 and 4 of the protocol say (a verb,
no argument twice, the required ones, nothing else, `resumptionToken` alone), answers, and turns
every failure into its `<error code=…>`. An identifier the caller may not see is idDoesNotExist,
exactly like one that does not exist.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from elasticsearch import Elasticsearch
from lxml import etree

from services.access.principals import Principal
from services.oai import dates, envelope, records, sets, tokens
from services.oai.envelope import sub
from services.oai.errors import ErrorCode, OaiError
from services.oai.formats import EDM, FORMATS, MetadataFormat, formats_of
from services.oai.harvest import Harvest, PointInTimeGone, token_key
from services.oai.holders import NamesLookup
from services.record_view import stored_view
from services.settings import Settings

PROTOCOL_VERSION = "2.0"
DELETED_RECORD = "persistent"  # tombstones stay in the index until the holder ingests the object again
EARLIEST_IF_EMPTY = "1970-01-01T00:00:00Z"  # a lower bound of every datestamp, when there are none yet
PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")  # metadataPrefixType of OAI-PMH.xsd
TOKEN = "resumptionToken"
# verb → (required, optional); the list verbs also take a resumptionToken alone.
ARGUMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Identify": ((), ()),
    "ListMetadataFormats": ((), ("identifier",)),
    "ListSets": ((), ()),
    "GetRecord": (("identifier", "metadataPrefix"), ()),
    "ListIdentifiers": (("metadataPrefix",), ("from", "until", "set")),
    "ListRecords": (("metadataPrefix",), ("from", "until", "set")),
}
RESUMABLE = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})


@dataclass
class Repository:
    es: Elasticsearch
    settings: Settings
    principal: Principal
    names: NamesLookup

    @property
    def base_url(self) -> str:
        return f"{self.settings.gateway.public_url}/oai"

    @cached_property
    def host(self) -> str:
        return urlsplit(self.settings.gateway.public_url).hostname or "localhost"

    def identifier(self, asset_id: str) -> str:
        return f"oai:{self.host}:{asset_id}"

    def asset_id(self, identifier: str) -> str:
        prefix = f"oai:{self.host}:"
        if not identifier.startswith(prefix) or not identifier[len(prefix):]:
            raise OaiError(ErrorCode.ID_DOES_NOT_EXIST, f"{identifier!r} is not an identifier of this repository "
                                                        f"(they read {prefix}<asset id>)")
        return identifier[len(prefix):]

    @property
    def harvest(self) -> Harvest:
        return Harvest(self.es, self.settings, self.principal)


def _arguments(pairs: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    verbs = [v for k, v in pairs if k == "verb"]
    if len(verbs) != 1 or verbs[0] not in ARGUMENTS:
        said = "no verb" if not verbs else "the verb more than once" if len(verbs) > 1 else f"verb {verbs[0]!r}"
        raise OaiError(ErrorCode.BAD_VERB, f"the request has {said}; the verbs are {', '.join(ARGUMENTS)}")
    verb, args = verbs[0], {}
    for key, value in pairs:
        if key == "verb":
            continue
        if key in args:
            raise OaiError(ErrorCode.BAD_ARGUMENT, f"the argument {key} is repeated")
        args[key] = value
    required, optional = ARGUMENTS[verb]
    if TOKEN in args and verb in RESUMABLE:
        if len(args) > 1:
            raise OaiError(ErrorCode.BAD_ARGUMENT, f"{TOKEN} is an exclusive argument: send it with the verb alone")
        return verb, args
    illegal = sorted(set(args) - set(required) - set(optional))
    missing = [name for name in required if name not in args]
    if illegal or missing:
        raise OaiError(ErrorCode.BAD_ARGUMENT, "; ".join(
            ([f"{verb} does not take {', '.join(illegal)}"] if illegal else [])
            + ([f"{verb} needs {', '.join(missing)}"] if missing else [])))
    for name, value in args.items():
        if not value or any(c.isspace() for c in value):
            raise OaiError(ErrorCode.BAD_ARGUMENT, f"{name} must not be empty or contain spaces")
    if "metadataPrefix" in args and not PREFIX.fullmatch(args["metadataPrefix"]):
        raise OaiError(ErrorCode.BAD_ARGUMENT, f"{args['metadataPrefix']!r} is not a metadataPrefix")
    return verb, args


def respond(repo: Repository, pairs: list[tuple[str, str]]) -> bytes:
    echo: dict[str, str] = {}
    try:
        verb, args = _arguments(pairs)
        echo = {"verb": verb, **args}
        return envelope.response(repo.base_url, echo, HANDLERS[verb](repo, args))
    except OaiError as error:
        return envelope.response(repo.base_url, echo, [error])


def _format(prefix: str) -> MetadataFormat:
    found = FORMATS.get(prefix)
    if found is None:
        raise OaiError(ErrorCode.CANNOT_DISSEMINATE_FORMAT, f"no metadata format {prefix!r} here; the formats are "
                                                            f"{', '.join(FORMATS)}")
    return found


def _record_or_404(repo: Repository, identifier: str) -> dict[str, Any]:
    found = repo.harvest.record(repo.asset_id(identifier))
    if found is None:
        raise OaiError(ErrorCode.ID_DOES_NOT_EXIST, f"no item {identifier!r} in this repository")
    return found


# -- verbs -----------------------------------------------------------------------------------------

def identify(repo: Repository, args: dict[str, str]) -> etree._Element:
    el = envelope.verb_element("Identify")
    earliest = repo.harvest.earliest()
    sub(el, "repositoryName", repo.settings.oai.repository_name)
    sub(el, "baseURL", repo.base_url)
    sub(el, "protocolVersion", PROTOCOL_VERSION)
    sub(el, "adminEmail", repo.settings.oai.admin_email)
    sub(el, "earliestDatestamp", dates.datestamp(earliest) if earliest else EARLIEST_IF_EMPTY)
    sub(el, "deletedRecord", DELETED_RECORD)
    sub(el, "granularity", dates.REPOSITORY_GRANULARITY.value)
    return el


def list_metadata_formats(repo: Repository, args: dict[str, str]) -> etree._Element:
    available = list(FORMATS.values())
    if "identifier" in args:
        available = formats_of(_record_or_404(repo, args["identifier"]))
        if not available:
            raise OaiError(ErrorCode.NO_METADATA_FORMATS, f"no metadata format can carry {args['identifier']!r}")
    el = envelope.verb_element("ListMetadataFormats")
    for fmt in available:
        format_el = sub(el, "metadataFormat")
        sub(format_el, "metadataPrefix", fmt.prefix)
        sub(format_el, "schema", fmt.schema)
        sub(format_el, "metadataNamespace", fmt.namespace)
    return el


def list_sets(repo: Repository, args: dict[str, str]) -> etree._Element:
    if TOKEN in args:
        raise OaiError(ErrorCode.BAD_RESUMPTION_TOKEN, "ListSets answers in one response and issues no tokens")
    institutions, categories = repo.harvest.set_members()
    el = envelope.verb_element("ListSets")
    for spec, name, names in sets.listing(institutions, categories, repo.names(institutions)):
        set_el = sub(el, "set")
        sub(set_el, "setSpec", spec)
        sub(set_el, "setName", name)
        if names.zh or names.en:  # the names again, each with its language
            description = records.oai_dc_titles(names)
            sub(set_el, "setDescription").append(description)
    return el


def _item(repo: Repository, record: dict[str, Any], fmt: MetadataFormat | None, decisions: dict[str, Any],
          holders: dict[str, sets.Names]) -> str:
    """A header (ListIdentifiers: `fmt` None) or a whole record, as text."""
    deleted = record.get("deleted_at") is not None
    head = envelope.header(repo.identifier(str(record["asset_id"])), dates.datestamp(record["changed_at"]),
                           sets.specs_of(record), deleted)
    if fmt is None:
        return head
    if deleted:
        return f"<record>{head}</record>"
    view = stored_view(record)
    holder = holders.get(view["institution"], sets.Names())
    base = repo.settings.gateway.public_url
    metadata = (records.edm(view, decisions.get(view["asset_id"]), holder, base, repo.settings.oai.repository_name)
                if fmt is EDM else records.oai_dc(view, holder, base))
    return f"<record>{head}<metadata>{metadata}</metadata></record>"


def get_record(repo: Repository, args: dict[str, str]) -> str:
    fmt = _format(args["metadataPrefix"])
    record = _record_or_404(repo, args["identifier"])
    if not fmt.applies(record):
        licence = record["licence"]["code"]
        raise OaiError(ErrorCode.CANNOT_DISSEMINATE_FORMAT,
                       f"{args['identifier']!r} cannot be disseminated as {fmt.prefix} (its licence is {licence})")
    decisions = repo.harvest.decisions([record]) if fmt is EDM else {}
    return f"<GetRecord>{_item(repo, record, fmt, decisions, repo.names([str(record['institution'])]))}</GetRecord>"


def _list(repo: Repository, verb: str, args: dict[str, str]) -> str:
    key, caller = token_key(repo.settings), tokens.caller_hash(repo.principal.fingerprint())
    position: tokens.Position | None = None
    if TOKEN in args:
        try:
            wanted, position = tokens.decode(key, args[TOKEN], verb=verb, caller=caller)
        except tokens.TokenError as exc:
            raise OaiError(ErrorCode.BAD_RESUMPTION_TOKEN, str(exc)) from exc
    else:
        wanted = tokens.ListArguments(verb, args["metadataPrefix"], args.get("set"), args.get("from"),
                                      args.get("until"))
    fmt = _format(wanted.metadata_prefix)
    try:
        selected = dates.selection(wanted.from_, wanted.until)
        in_set = sets.clause(wanted.set_spec) if wanted.set_spec else None
    except sets.UnknownSet as exc:
        raise OaiError(ErrorCode.NO_RECORDS_MATCH, f"there is no set {wanted.set_spec!r} here (see ListSets)") from exc
    except ValueError as exc:
        raise OaiError(ErrorCode.BAD_ARGUMENT, str(exc)) from exc
    harvest, size = repo.harvest, repo.settings.oai.page_size
    query = harvest.query(fmt.clause(), in_set, selected)
    pit = position.pit if position else harvest.open()
    try:
        page = harvest.page(pit, query, size, position.after if position else None, full=verb == "ListRecords")
    except PointInTimeGone as exc:
        raise OaiError(ErrorCode.BAD_RESUMPTION_TOKEN,
                       "the list this token continues has expired; start again") from exc
    total, cursor = (position.complete_list_size, position.cursor) if position else (page.total, 0)
    if not page.hits:
        harvest.close(pit)
        raise OaiError(ErrorCode.NO_RECORDS_MATCH, "no records match these arguments for this caller")
    full = verb == "ListRecords"
    decisions = harvest.decisions(page.hits) if full and fmt is EDM else {}
    holders = repo.names(str(r["institution"]) for r in page.hits) if full else {}
    out = [f"<{verb}>", *(_item(repo, record, fmt if full else None, decisions, holders) for record in page.hits)]
    sent = cursor + len(page.hits)
    if len(page.hits) == size and sent < total and page.last_sort is not None:
        expires = int(time.time()) + repo.settings.oai.token_ttl_s
        token = tokens.encode(key, wanted, tokens.Position(pit, page.last_sort, sent, total, expires), caller)
        out.append(envelope.resumption_token(token, total, cursor, dates.iso_from_unix(expires)))
    else:
        harvest.close(pit)
        if position is not None:  # the last page of several ends with an empty token
            out.append(envelope.resumption_token(None, max(total, sent), cursor, None))
    out.append(f"</{verb}>")
    return "".join(out)


def list_identifiers(repo: Repository, args: dict[str, str]) -> str:
    return _list(repo, "ListIdentifiers", args)


def list_records(repo: Repository, args: dict[str, str]) -> str:
    return _list(repo, "ListRecords", args)


HANDLERS: dict[str, Callable[[Repository, dict[str, str]], etree._Element | str]] = {
    "Identify": identify, "ListMetadataFormats": list_metadata_formats, "ListSets": list_sets,
    "GetRecord": get_record, "ListIdentifiers": list_identifiers, "ListRecords": list_records,
}
