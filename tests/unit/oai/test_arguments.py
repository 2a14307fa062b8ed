"""The protocol's argument rules (OAI-PMH 2.0, sections 3.1 and 4), answered before any index is asked.

The repository here has no Elasticsearch client: every request below fails its argument checks,
which come first, so none reaches the index."""

from __future__ import annotations

import pytest

from services.access.principals import ANONYMOUS
from services.oai.holders import no_names
from services.oai.verbs import Repository, respond
from services.settings import Settings
from tests.oai_xml import NS, error_code, valid


@pytest.fixture
def repo(settings: Settings) -> Repository:
    return Repository(None, settings, ANONYMOUS, no_names)  # type: ignore[arg-type]


@pytest.mark.parametrize("pairs", [[], [("verb", "Harvest")], [("verb", "Identify"), ("verb", "Identify")],
                                   [("verb", "identify")], [("metadataPrefix", "oai_dc")]])
def test_a_missing_unknown_or_repeated_verb_is_bad_verb(repo: Repository, pairs: list[tuple[str, str]]) -> None:
    root = valid(respond(repo, pairs))

    assert error_code(root) == "badVerb"
    assert root.find("oai:request", NS).attrib == {}  # type: ignore[union-attr]


@pytest.mark.parametrize(("pairs", "says"), [
    ([("verb", "Identify"), ("set", "x")], "does not take set"),
    ([("verb", "GetRecord"), ("identifier", "oai:h:1")], "needs metadataPrefix"),
    ([("verb", "ListRecords")], "needs metadataPrefix"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "edm")], "repeated"),
    ([("verb", "ListIdentifiers"), ("resumptionToken", "t"), ("metadataPrefix", "oai_dc")], "exclusive"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai dc")], "must not be empty or contain spaces"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc<")], "is not a metadataPrefix"),
    ([("verb", "ListRecords"), ("metadataPrefix", "")], "must not be empty"),
    ([("verb", "Identify"), ("resumptionToken", "t")], "does not take resumptionToken"),
])
def test_arguments_against_the_verbs_rules_are_bad_argument(repo: Repository, pairs: list[tuple[str, str]],
                                                            says: str) -> None:
    root = valid(respond(repo, pairs))

    assert error_code(root) == "badArgument"
    assert says in (root.find("oai:error", NS).text or "")  # type: ignore[union-attr]


def test_an_unknown_format_is_cannot_disseminate_format_with_the_arguments_echoed(repo: Repository) -> None:
    root = valid(respond(repo, [("verb", "ListRecords"), ("metadataPrefix", "lido")]))

    assert error_code(root) == "cannotDisseminateFormat"
    assert root.find("oai:request", NS).attrib == {"verb": "ListRecords", "metadataPrefix": "lido"}  # type: ignore[union-attr]


def test_a_foreign_token_is_bad_resumption_token(repo: Repository) -> None:
    root = valid(respond(repo, [("verb", "ListRecords"), ("resumptionToken", "eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA")]))

    assert error_code(root) == "badResumptionToken"


def test_an_identifier_of_another_repository_does_not_exist_here(repo: Repository) -> None:
    root = valid(respond(repo, [("verb", "GetRecord"), ("identifier", "oai:elsewhere.org:1"),
                                ("metadataPrefix", "oai_dc")]))

    assert error_code(root) == "idDoesNotExist"
