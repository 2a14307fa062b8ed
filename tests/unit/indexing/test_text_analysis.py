"""indexing/terms.py and indexing/bridge.py: analysis and translation in Python, the same at index and query time."""

from __future__ import annotations

from indexing.bridge import clean_gloss, default_bridge
from indexing.query import Filters, bridge_query, exact_title, period_clause
from indexing.terms import default_analyzer


def test_english_is_stemmed_and_stop_words_dropped() -> None:
    assert default_analyzer().tokens("The Boats at Sunset") == ["boat", "sunset"]


def test_chinese_is_folded_to_simplified_and_segmented_with_the_glossary() -> None:
    analyzer = default_analyzer()

    assert analyzer.tokens("銅鏡") == analyzer.tokens("铜镜") == ["铜镜"]
    assert analyzer.zh_words("鎏金铜带扣") == ["鎏金", "铜", "带扣"]


def test_index_tokens_hold_every_precise_query_word() -> None:
    analyzer = default_analyzer()
    indexed = set((analyzer.field("唐三彩骆驼载乐俑") or "").split())

    assert set(analyzer.tokens("骆驼")) <= indexed and set(analyzer.tokens("唐三彩")) <= indexed


def test_a_title_key_ignores_case_script_punctuation_and_spaces() -> None:
    analyzer = default_analyzer()

    assert analyzer.title_key("Boats, at Sunset!") == analyzer.title_key("boats at sunset") == "boatsatsunset"
    assert analyzer.title_key("青花纏枝蓮紋梅瓶") == analyzer.title_key("青花缠枝莲纹梅瓶")
    assert analyzer.title_key("？！") is None and exact_title("？！") is None


def test_cedict_glosses_are_cleaned_of_classifiers_and_non_names() -> None:
    assert clean_gloss("camel (CL:峰[feng1],匹[pi3])") == "camel"
    assert clean_gloss("surname Luo") is None
    assert clean_gloss("to steal") == "steal"
    assert clean_gloss("variant of 駱|骆[luo4]") is None


def test_the_bridge_translates_single_words_both_ways() -> None:
    bridge, analyzer = default_bridge(), default_analyzer()

    assert ("camel",) in bridge.to_en(["骆驼"])[0]
    assert bridge.to_zh(analyzer.stems(["camel"]))[0][0] == ("骆驼",)
    assert bridge.to_zh(analyzer.stems(["belt", "buckle"]))[0][0] == ("带扣",)
    assert ("meip",) in bridge.to_en(["梅瓶"])[0]  # the glossary: meiping
    assert bridge.to_en(["的"]) == [] and bridge.to_zh(["xqzv"]) == []


def test_the_bridge_query_requires_most_source_words_and_carries_the_filters() -> None:
    visibility = {"term": {"licence.reusable": True}}

    query = bridge_query("鎏金铜带扣", Filters(institution=["m"]), visibility)

    assert query is not None and len(query["bool"]["should"]) == 3
    assert query["bool"]["minimum_should_match"] == "2<70%" and visibility in query["bool"]["filter"]
    assert bridge_query("xqzv blorf", Filters(), None) is None


def test_a_named_period_becomes_a_year_range_but_common_english_words_do_not() -> None:
    assert period_clause("唐代骆驼") == {"range": {"period_norm.years": {"gte": 618, "lte": 907,
                                                                          "relation": "within"}}}
    assert period_clause("Ming dynasty vase") is not None and period_clause("明永乐青花") is not None
    assert period_clause("鎏金铜带扣") is None  # 金 inside 鎏金 is not the Jin dynasty
    assert period_clause("四季：夏") is None and period_clause("约克郡唐卡斯特") is None  # summer; Doncaster
    assert period_clause("宋") is not None
    assert period_clause("Bird Song") is None and period_clause("Windmill near Norwich") is None
