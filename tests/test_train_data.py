"""edgefc.train.data: each loader on a fixture in its source's real format, negatives, synthetic tasks, dedup,
BFCL decontamination, parquet round trip and summary."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from edgefc.errors import EdgefcError
from edgefc.protocol.parse import format_tool_calls
from edgefc.train.data import SOURCES, negatives
from edgefc.train.data.families import generate as synthetic
from edgefc.train.data.build import build
from edgefc.train.data.record import (Contamination, Record, RecordError, decontaminate, deduplicate, language_of,
                                      make_record, read_records, summarize, summary_path, write_records)
from edgefc.train.data.toolace import parse_calls

FIXTURES = Path(__file__).parent / "fixtures" / "train"
BFCL_SIMPLE_0 = "Find the area of a triangle with a base of 10 units and height of 5 units."


def load(source: str, path: Path) -> tuple[list[Record], Counter[str]]:
    skipped: Counter[str] = Counter()
    return list(SOURCES[source](path, skipped)), skipped


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def shape(record: Record) -> tuple:
    """What a test compares: the conversation, the offered tool names, the calls, the type, the language."""
    names = [tool["function"]["name"] for tool in record.tools]
    return record.messages, names, record.calls, record.negative_type, record.language


@pytest.fixture
def toucan_parquet(tmp_path: Path) -> Path:
    """The committed Toucan rows (JSON) written as the parquet file Toucan ships."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = json.loads((FIXTURES / "toucan.json").read_text(encoding="utf-8"))
    path = tmp_path / "toucan.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


# --- loaders ----------------------------------------------------------------------------------


def test_xlam_json_list() -> None:
    records, skipped = load("xlam", FIXTURES / "xlam.json")
    giveaways = ["live_giveaways_by_type"]
    assert [shape(r) for r in records] == [
        ([user("Where can I find live giveaways for beta access and games?")], giveaways,
         [{"name": "live_giveaways_by_type", "arguments": {"type": "beta"}},
          {"name": "live_giveaways_by_type", "arguments": {"type": "game"}}], "", "en"),
        ([user("Find the missing ranges between 0 and 99 in the list [0, 1, 3, 50, 75], and check whether "
               "'waterbottle' is a rotation of 'erbottlewat'.")], ["find_missing_ranges", "is_rotation"],
         [{"name": "find_missing_ranges", "arguments": {"nums": [0, 1, 3, 50, 75], "lower": 0, "upper": 99}},
          {"name": "is_rotation", "arguments": {"str1": "waterbottle", "str2": "erbottlewat"}}], "", "en"),
        ([user("Please cancel my order 88231, it arrived too late.")], ["cancel_order", "convert_temperature"],
         [{"name": "cancel_order", "arguments": {"order_id": "88231", "reason": "arrived too late"}}], "", "en"),
        ([user(BFCL_SIMPLE_0)], ["calculate_triangle_area"],
         [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}], "", "en"),
        ([user("Where can I find live giveaways for beta access and games?")], giveaways,
         [{"name": "live_giveaways_by_type", "arguments": {"type": "beta"}},
          {"name": "live_giveaways_by_type", "arguments": {"type": "game"}}], "", "en"),
    ]
    assert skipped == {"answers is not valid JSON": 1, "a call to a tool not offered": 1}
    # xLAM's flat parameter map with Python types, as canonical JSON Schema
    assert records[0].tools == [{"type": "function", "function": {
        "name": "live_giveaways_by_type",
        "description": "Retrieve live giveaways from the GamerPower API based on the specified type.",
        "parameters": {"type": "object", "required": [], "properties": {"type": {
            "type": "string", "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
            "default": "game"}}}}}]
    assert records[1].tools[0]["function"]["parameters"]["properties"]["nums"]["type"] == "array"
    assert records[1].tools[0]["function"]["parameters"]["properties"]["nums"]["items"] == {"type": "integer"}
    assert records[2].tools[0]["function"]["parameters"]["required"] == ["order_id"]  # "str, optional" is optional
    assert records[0].id == records[4].id and records[0].id.startswith("xlam:") and len(records[0].id) == 17


def test_xlam_json_lines() -> None:
    records, skipped = load("xlam", FIXTURES / "xlam.jsonl")
    assert [shape(r) for r in records] == [
        ([user("Is 'hello' a rotation of 'llohe'?")], ["is_rotation"],
         [{"name": "is_rotation", "arguments": {"str1": "hello", "str2": "llohe"}}], "", "en")]
    assert skipped == {"a line that is not valid JSON": 1,
                       "tools: tool … parameter … has unknown type 'Frobnicate'": 1}


def test_toolace() -> None:
    records, skipped = load("toolace", FIXTURES / "toolace.json")
    question = user("What's the weather like in Oslo right now, and how is the air there?")
    first_calls = [{"name": "Weather API", "arguments": {"city": "Oslo"}},
                   {"name": "Air Quality Index", "arguments": {"city": "Oslo", "detailed": True}}]
    results = ('[{"name": "Weather API", "results": {"temp": 4}}, '
               '{"name": "Air Quality Index", "results": {"aqi": 21}}]')
    weather = ["Weather API", "Air Quality Index"]
    assert [shape(r) for r in records] == [
        ([question], weather, first_calls, "", "en"),
        ([question, {"role": "assistant", "content": format_tool_calls(first_calls)},
          {"role": "tool", "content": results},
          {"role": "assistant", "content": "It is 4 degrees in Oslo and the air quality is good (AQI 21)."},
          user("And in Bergen, in fahrenheit?")], weather,
         [{"name": "Weather API", "arguments": {"city": "Bergen", "units": "fahrenheit"}}], "", "en"),
        ([user("Get me the latest quote for AAPL.")], ["getStockQuote", "deleteWatchlist"],
         [{"name": "getStockQuote", "arguments": {"symbol": "AAPL"}}], "", "en"),
    ]
    assert skipped == {"no assistant turn calls a tool": 1, "an assistant call with positional or ** arguments": 1,
                       "no JSON list of tools in the system text": 1}
    assert records[0].tools[0] == {"type": "function", "function": {
        "name": "Weather API", "description": "Current weather for a city.", "parameters": {
            "type": "object", "required": ["city"], "properties": {
                "city": {"description": "City name", "type": "string"},
                "units": {"description": "Temperature units", "type": "string", "enum": ["celsius", "fahrenheit"]}}}}}


def test_toolace_call_text() -> None:
    names = ["Weather API", "Other", "a.b-c"]
    text = '[Weather API(city="Oslo (NO), Norway", days=-2), Other(x=[1, 2.5], y={"k": null, "t": true}), a.b-c()]'
    assert parse_calls(text, names) == [
        {"name": "Weather API", "arguments": {"city": "Oslo (NO), Norway", "days": -2}},
        {"name": "Other", "arguments": {"x": [1, 2.5], "y": {"k": None, "t": True}}},
        {"name": "a.b-c", "arguments": {}}]
    for bad in ['[Weather API(city="Oslo"]', "[Other(x=__import__('os'))]", "[Other(x=1) junk]", "[Nope(x=1)]",
                '[Other(**{"x": 1})]']:
        with pytest.raises(RecordError):
            parse_calls(bad, names)


def test_toucan(toucan_parquet: Path) -> None:
    records, skipped = load("toucan", toucan_parquet)
    question = user("Are there weather alerts in Norway, and what's the 2-day forecast for Tromsø?")
    first = [{"name": "weather-server-get_alerts", "arguments": {"country": "Norway"}},
             {"name": "weather-server-get_forecast", "arguments": {"city": "Tromsø", "days": 2}}]
    weather = ["weather-server-get_forecast", "weather-server-get_alerts"]
    assert [shape(r) for r in records] == [
        ([question], weather, first, "", "en"),
        ([question, {"role": "assistant", "content": format_tool_calls(first)},
          {"role": "tool", "content": '{"alerts": []}'},
          {"role": "tool", "content": '{"days": [{"t": -3}, {"t": -5}]}'}], weather,
         [{"name": "weather-server-get_forecast", "arguments": {"city": "Oslo", "days": 2}}], "", "en"),
        ([user("What's the 2-day forecast for Tromsø?")], ["recipe-finder-search_recipes"], [], "server_shuffle",
         "en"),
    ]
    assert skipped == {"messages is not valid JSON": 1, "function_call arguments that are not valid JSON": 1}
    assert records[0].tools[0]["function"]["parameters"]["properties"]["units"]["enum"] == ["celsius", "fahrenheit"]


def test_a_file_in_another_format_is_one_user_error(tmp_path: Path, toucan_parquet: Path) -> None:
    with pytest.raises(EdgefcError, match="is not xLAM function-calling data"):
        load("xlam", FIXTURES / "toolace.json")
    with pytest.raises(EdgefcError, match="is not ToolACE data"):
        load("toolace", FIXTURES / "xlam.json")
    with pytest.raises(EdgefcError, match="not a readable parquet file"):
        load("toucan", FIXTURES / "toucan.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_text("this is not JSON\n", encoding="utf-8")
    with pytest.raises(EdgefcError, match="is not xLAM"):
        load("xlam", garbage)
    import pyarrow as pa
    import pyarrow.parquet as pq

    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"uuid": ["1"], "text": ["x"]}), other)
    with pytest.raises(EdgefcError, match="is not Toucan data"):
        load("toucan", other)


# --- negatives --------------------------------------------------------------------------------


def _tool(name: str, description: str, properties: dict | None = None) -> dict:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties or {"id": {"type": "string"}}, "required": []}}}


BASES = [
    make_record([user("Show me order 123.")], [_tool("get_order", "Details of an order."),
                                               _tool("get_order_items", "Items of an order."),
                                               _tool("convert_temperature", "Converts a temperature.")],
                [{"name": "get_order", "arguments": {"id": "123"}}], "test"),
    make_record([user("Delete the playlist 9.")], [_tool("deletePlaylist", "Deletes a playlist.")],
                [{"name": "deletePlaylist", "arguments": {"id": "9"}}], "test"),
    make_record([user("Forecast for Oslo, and the exchange rate of NOK?")],
                [_tool("get_forecast", "Weather forecast for a city."),
                 _tool("exchange_rate", "Currency exchange rates.")],
                [{"name": "get_forecast", "arguments": {"id": "Oslo"}},
                 {"name": "exchange_rate", "arguments": {"id": "NOK"}}], "test"),
    make_record([user("Thời tiết ở Hà Nội hôm nay thế nào?")],
                [_tool("get_weather", "Current weather.", {"city": {"type": "string"},
                                                            "unit": {"type": "string", "enum": ["celsius"]}})],
                [{"name": "get_weather", "arguments": {"city": "Hà Nội"}}], "test"),
    make_record([user("Play some jazz music in the kitchen.")], [_tool("play_music", "Plays music by genre.")],
                [{"name": "play_music", "arguments": {"id": "jazz"}}], "test"),
]


def _by_type(records: list[Record]) -> dict[str, list[tuple]]:
    grouped: dict[str, list[tuple]] = {}
    for record in records:
        names = [t["function"]["name"] for t in record.tools]
        grouped.setdefault(record.negative_type, []).append((record.messages[-1]["content"], names))
    return grouped


def test_negatives_of_each_type() -> None:
    derived = negatives.derive(BASES, per_type=5, seed=3)
    assert all(r.calls == [] and r.source == "negatives" for r in derived)
    assert derived == negatives.derive(BASES, per_type=5, seed=3)
    assert _by_type(derived) == {
        # the question kept, with another record's tools that share none of its topic words
        "domain_mismatch": [
            ("Delete the playlist 9.", ["get_weather"]),
            ("Play some jazz music in the kitchen.", ["get_order", "get_order_items", "convert_temperature"]),
            ("Show me order 123.", ["play_music"]),
            ("Thời tiết ở Hà Nội hôm nay thế nào?", ["get_order", "get_order_items", "convert_temperature"]),
            ("Forecast for Oslo, and the exchange rate of NOK?", ["deletePlaylist"])],
        # the called tool's verb swapped (get <-> delete); the related sibling (order items) left out
        "action_mismatch": [
            ("Delete the playlist 9.", ["getPlaylist"]),
            ("Show me order 123.", ["delete_order", "convert_temperature"]),
            ("Thời tiết ở Hà Nội hôm nay thế nào?", ["delete_weather"])],
        # only a question needing two tools loses one of them
        "partial_fulfilment": [("Forecast for Oslo, and the exchange rate of NOK?", ["exchange_rate"])],
        # only a write action, whose tool states that the user lacks the privilege
        "permission": [("Delete the playlist 9.", ["deletePlaylist"])],
        # a unit outside the tool's enum, asked in the question's own language
        "format_mismatch": [("Thời tiết ở Hà Nội hôm nay thế nào? Cho tôi nhiệt độ theo độ F.", ["get_weather"])],
    }
    descriptions = {(r.negative_type, r.tools[0]["function"]["name"]): r.tools[0]["function"]["description"]
                    for r in derived}
    assert descriptions["permission", "deletePlaylist"] == "Deletes a playlist." + negatives.NO_PRIVILEGE
    assert descriptions["action_mismatch", "getPlaylist"] == (
        "Returns the details of an existing playlist. It cannot delete one or change anything.")
    assert descriptions["action_mismatch", "delete_weather"] == (
        "Deletes a stored weather record. It cannot look up or return any weather data.")
    assert _by_type(negatives.derive(BASES, per_type=1, seed=3)) != _by_type(negatives.derive(BASES, 1, seed=4))


def test_negatives_skip_what_cannot_be_derived() -> None:
    multi_turn = make_record([user("hi"), {"role": "assistant", "content": "x"}, user("Delete playlist 9.")],
                             [_tool("deletePlaylist", "Deletes a playlist.")],
                             [{"name": "deletePlaylist", "arguments": {"id": "9"}}], "test")
    assert negatives.derive([multi_turn], per_type=3) == []
    only = BASES[4]  # play_music: no action verb family, one call, no enum, one tool
    assert [r.negative_type for r in negatives.derive([only], per_type=3)] == []


# --- synthetic tasks --------------------------------------------------------------------------


def test_synthetic_tasks() -> None:
    records = synthetic.generate(120, seed=7)
    assert len({r.key for r in records}) == len(records) == 120
    assert records == synthetic.generate(120, seed=7)
    assert records != synthetic.generate(120, seed=8)
    summary = summarize(records)
    assert summary["by_language"] == {"en": 60, "vi": 60}
    assert "positive" in summary["by_negative_type"]
    for record in records:
        user = [m["content"] for m in record.messages if m["role"] == "user"][-1]
        assert language_of(user) == record.language
        assert (record.calls == [] and not record.answer) == bool(record.negative_type)
        schemas = {t["function"]["name"]: t["function"]["parameters"] for t in record.tools}
        for call in record.calls:
            jsonschema.validate(call["arguments"], schemas[call["name"]])
    questions = {m["content"] for r in records for m in r.messages if m["role"] == "user"}
    assert len(questions) > 80  # varied values, not a handful of fixed strings
    assert any("Hà Nội" in q or "Đà Nẵng" in q or "Huế" in q for q in questions)


def test_language_of() -> None:
    assert language_of("Thời tiết ở Hà Nội hôm nay thế nào?") == "vi"
    assert language_of("Hủy giúp tôi đơn hàng 58213.") == "vi"
    assert language_of("What's the weather like in Đà Nẵng today?") == "en"
    assert language_of("Café prices in Paris, São Paulo and Zürich") == "en"


# --- dedup, decontamination, parquet ------------------------------------------------------------


def test_dedup_keeps_the_first_of_equal_content() -> None:
    records, _ = load("xlam", FIXTURES / "xlam.json")
    kept, dropped = deduplicate(records)
    assert dropped == 1 and kept == records[:4]
    negative = make_record(records[0].messages, records[0].tools, [], "negatives", "domain_mismatch")
    assert deduplicate([*records, negative])[0][-1] is negative  # same question and tools, other calls: kept


def test_contamination_index() -> None:
    index = Contamination.of(["What is the capital of France?",
                              "Calculate the compound interest for an initial principal of 5000 dollars at an annual "
                              "rate of 5 percent over 10 years."], n=13)
    def record(text: str) -> Record:
        return make_record([user(text)], [_tool("f", "x")], [{"name": "f", "arguments": {}}], "test")
    assert index.hits(record("what is the capital  of FRANCE"))  # normalized exact match
    assert index.hits(record("Please calculate the compound interest for an initial principal of 5000 dollars at an "
                             "annual rate of 5 percent, thanks."))  # a shared 13-gram
    assert not index.hits(record("What is the capital of Norway?"))
    assert not index.hits(record("Calculate the compound interest for an initial principal of 800 euros."))
    kept, dropped = decontaminate([record("What is the capital of France?"), record("Hello there")], index)
    assert dropped == 1 and [r.messages[0]["content"] for r in kept] == ["Hello there"]


def test_planted_bfcl_question_is_dropped() -> None:
    from edgefc.train.data.record import bfcl_questions
    from tests.bfcl_support import real_wheel

    questions = bfcl_questions(real_wheel())
    assert BFCL_SIMPLE_0 in questions and len(questions) > 3000
    records, _ = load("xlam", FIXTURES / "xlam.json")
    kept, dropped = decontaminate(records, Contamination.of(questions))
    assert dropped == 1 and BFCL_SIMPLE_0 not in [r.messages[0]["content"] for r in kept]


def test_parquet_round_trip_and_summary(tmp_path: Path) -> None:
    records = [*load("xlam", FIXTURES / "xlam.json")[0][:4], *synthetic.generate(6, seed=1)]
    out = tmp_path / "data" / "train.parquet"
    summary = write_records(records, out, {"note": "x"})
    assert read_records(out) == records
    assert json.loads(summary_path(out).read_text(encoding="utf-8")) == summary
    assert summary == {"records": 10, "by_source": {"synthetic": 6, "xlam": 4},
                       "by_negative_type": summarize(records)["by_negative_type"],
                       "by_language": {"en": 7, "vi": 3}, "by_family": summarize(records)["by_family"], "note": "x"}
    assert sum(summary["by_family"].values()) == 10 and summary["by_family"]["xlam/en"] == 4
    row = records[0].to_row()
    assert list(row) == ["id", "messages", "tools", "calls", "source", "negative_type", "language", "answer", "facts",
                         "family"]
    assert json.loads(row["calls"]) == records[0].calls and isinstance(row["tools"], str)
    import pyarrow.parquet as pq

    assert pq.read_table(out).to_pylist()[0] == row


def test_build(tmp_path: Path, toucan_parquet: Path) -> None:
    from tests.bfcl_support import real_wheel

    sources = {"xlam": [FIXTURES / "xlam.json", FIXTURES / "xlam.jsonl"], "toolace": [FIXTURES / "toolace.json"],
               "toucan": [toucan_parquet]}
    out = tmp_path / "train.parquet"
    summary = build(sources, out, negatives_per_type=2, synthetic_count=10, seed=0, bfcl_wheel=real_wheel())
    records = read_records(out)
    assert summary["records"] == len(records) == len({r.id for r in records})
    # xlam: 6 rows, 1 duplicate, 1 BFCL question; negatives: no format mismatch is derivable from these fixtures
    assert summary["by_source"] == {"negatives": 7, "synthetic": 10, "toolace": 3, "toucan": 3, "xlam": 4}
    assert Counter(r.negative_type for r in records if r.source == "negatives") == {
        "domain_mismatch": 2, "action_mismatch": 2, "partial_fulfilment": 2, "permission": 1}
    assert summary["by_negative_type"]["server_shuffle"] == 1
    assert summary["duplicates_dropped"] == 1 and summary["bfcl_contaminated_dropped"] == 1
    assert summary["skipped"]["toucan"] == {"function_call arguments that are not valid JSON": 1,
                                            "messages is not valid JSON": 1}
    assert BFCL_SIMPLE_0 not in {m["content"] for r in records for m in r.messages}
    assert summary == build(sources, tmp_path / "again.parquet", negatives_per_type=2, synthetic_count=10, seed=0,
                            bfcl_wheel=real_wheel())
    with pytest.raises(EdgefcError, match="unknown data source 'glaive'"):
        build({"glaive": [FIXTURES / "xlam.json"]}, out, decontaminate_bfcl=False)
