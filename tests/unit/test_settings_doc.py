"""docs/CONFIGURATION.md is generated from the Settings descriptions, and stays so."""

from __future__ import annotations

from services import settings_doc


def test_every_setting_has_a_description() -> None:
    assert settings_doc.undocumented() == []


def test_the_configuration_page_is_current() -> None:
    page = settings_doc.OUT.read_text(encoding="utf-8")

    assert page == settings_doc.render(), "run `python -m services.settings_doc` and commit docs/CONFIGURATION.md"


def test_the_page_names_nested_settings_with_double_underscores() -> None:
    page = settings_doc.render()

    assert "`WENYUAN_ES__URL` | `http://127.0.0.1:9200`" in page
    assert "`WENYUAN_SEARCH__FUSION__GATE`" in page
    assert "wenyuan-local-secret" not in page
