"""A small bilingual (English / Vietnamese) task generator for CPU runs: tool families, templated questions with
varied values, ground-truth calls, and negatives of every seed type written as natural questions.

Deterministic for a seed. Positives offer their family's tools plus one tool of another family (so choosing the tool
matters); a call's arguments always validate against its tool's JSON Schema.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from edgefc.train.data.record import LANGUAGES, Record, make_record

SOURCE = "synthetic"
NEGATIVE_SHARE = 0.3
MAX_TRIES_PER_RECORD = 20  # draws per wanted record before giving up on finding new distinct ones

Call = dict[str, Any]
Task = Callable[[random.Random, str], tuple[str, list[Call]]]


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": required}}}


CURRENCIES = ["USD", "EUR", "JPY", "GBP", "VND"]
ROOMS = {"living_room": ("living room", "phòng khách"), "bedroom": ("bedroom", "phòng ngủ"),
         "kitchen": ("kitchen", "nhà bếp")}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "Date as YYYY-MM-DD."}

TOOLS: dict[str, dict[str, Any]] = {tool["function"]["name"]: tool for tool in [
    _tool("get_weather", "Current weather for a city.", {
        "city": {"type": "string", "description": "City name."},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius",
                 "description": "Temperature unit."}}, ["city"]),
    _tool("convert_currency", "Converts an amount of money between currencies at today's rate.", {
        "amount": {"type": "number", "exclusiveMinimum": 0, "description": "Amount to convert."},
        "from_currency": {"type": "string", "enum": CURRENCIES, "description": "ISO code of the currency held."},
        "to_currency": {"type": "string", "enum": CURRENCIES, "description": "ISO code of the currency wanted."}},
        ["amount", "from_currency", "to_currency"]),
    _tool("get_order_status", "Status and delivery estimate of one of the signed-in customer's own orders.", {
        "order_id": {"type": "string", "description": "The order number."}}, ["order_id"]),
    _tool("cancel_order", "Cancels one of the signed-in customer's own orders that has not shipped yet.", {
        "order_id": {"type": "string", "description": "The order number."},
        "reason": {"type": "string", "description": "Why the order is cancelled."}}, ["order_id"]),
    _tool("create_event", "Adds an event to the user's calendar.", {
        "title": {"type": "string", "description": "What the event is."},
        "date": _DATE,
        "time": {"type": "string", "pattern": r"^\d{2}:\d{2}$", "description": "Start time as HH:MM, 24-hour."}},
        ["title", "date", "time"]),
    _tool("list_events", "Returns the user's calendar events of one day as a JSON list.", {"date": _DATE}, ["date"]),
    _tool("set_light", "Switches the lights of a room on or off, optionally at a brightness.", {
        "room": {"type": "string", "enum": list(ROOMS)},
        "on": {"type": "boolean", "description": "True to switch on, false to switch off."},
        "brightness": {"type": "integer", "minimum": 0, "maximum": 100, "description": "Percent."}},
        ["room", "on"]),
    _tool("set_thermostat", "Sets the target temperature of a room's air conditioner in degrees Celsius.", {
        "room": {"type": "string", "enum": list(ROOMS)},
        "temperature": {"type": "number", "minimum": 16, "maximum": 30}}, ["room", "temperature"]),
]}
FAMILIES: dict[str, list[str]] = {
    "weather": ["get_weather"],
    "currency": ["convert_currency"],
    "orders": ["get_order_status", "cancel_order"],
    "calendar": ["create_event", "list_events"],
    "smart_home": ["set_light", "set_thermostat"],
}
GUEST_NOTE = " Guests cannot change the temperature; the current user is signed in as a guest."

CITIES = [("Hanoi", "Hà Nội"), ("Ho Chi Minh City", "Thành phố Hồ Chí Minh"), ("Da Nang", "Đà Nẵng"),
          ("Hue", "Huế"), ("Hai Phong", "Hải Phòng"), ("Can Tho", "Cần Thơ"), ("Tokyo", "Tokyo"),
          ("Paris", "Paris"), ("Oslo", "Oslo"), ("Seoul", "Seoul"), ("Nha Trang", "Nha Trang"),
          ("Da Lat", "Đà Lạt"), ("Vung Tau", "Vũng Tàu"), ("Bangkok", "Bangkok"), ("London", "London")]
TITLES = [("Team meeting", "Họp nhóm"), ("Dentist appointment", "Khám răng"), ("Lunch with Lan", "Ăn trưa với Lan"),
          ("Project review", "Họp tổng kết dự án"), ("Yoga class", "Lớp yoga")]
UNITS = {"celsius": ("Celsius", "độ C"), "fahrenheit": ("Fahrenheit", "độ F")}
AMOUNTS = [10, 20, 30, 50, 75, 100, 150, 200, 250, 300, 500, 1000]
TIMES = ["08:00", "09:30", "12:15", "14:00", "16:45", "19:00"]


def _pick(rng: random.Random, pairs: list[tuple[str, str]], lang: str) -> str:
    return rng.choice(pairs)[LANGUAGES.index(lang)]


def _say(lang: str, en: str, vi: str, **values: Any) -> str:
    return (en if lang == "en" else vi).format(**values)


def _date(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _order_id(rng: random.Random) -> str:
    return str(rng.randint(10000, 99999))


def _currencies(rng: random.Random) -> tuple[int, str, str]:
    source, target = rng.sample(CURRENCIES, 2)
    return rng.choice(AMOUNTS), source, target


def _room(rng: random.Random, lang: str) -> tuple[str, str]:
    room = rng.choice(list(ROOMS))
    return room, ROOMS[room][LANGUAGES.index(lang)]


# --- positive tasks: (question, calls) ---------------------------------------------------------


def weather_now(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    city = _pick(rng, CITIES, lang)
    text = _say(lang, "What's the weather like in {city} today?", "Thời tiết ở {city} hôm nay thế nào?", city=city)
    return text, [{"name": "get_weather", "arguments": {"city": city}}]


def weather_unit(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    city, unit = _pick(rng, CITIES, lang), rng.choice(list(UNITS))
    label = UNITS[unit][LANGUAGES.index(lang)]
    text = _say(lang, "What's the temperature in {city} right now, in {label}?",
                "Nhiệt độ ở {city} bây giờ là bao nhiêu {label}?", city=city, label=label)
    return text, [{"name": "get_weather", "arguments": {"city": city, "unit": unit}}]


def weather_two(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    first, second = (pair[LANGUAGES.index(lang)] for pair in rng.sample(CITIES, 2))
    text = _say(lang, "Compare today's weather in {a} and {b}.", "So sánh thời tiết hôm nay ở {a} và {b}.",
                a=first, b=second)
    return text, [{"name": "get_weather", "arguments": {"city": first}},
                  {"name": "get_weather", "arguments": {"city": second}}]


def convert(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    amount, source, target = _currencies(rng)
    text = _say(lang, "How much is {amount} {source} in {target}?", "{amount} {source} đổi ra được bao nhiêu {target}?",
                amount=amount, source=source, target=target)
    return text, [{"name": "convert_currency",
                   "arguments": {"amount": amount, "from_currency": source, "to_currency": target}}]


def order_status(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    order = _order_id(rng)
    text = _say(lang, "Where is my order {order}?", "Đơn hàng {order} của tôi đang ở đâu rồi?", order=order)
    return text, [{"name": "get_order_status", "arguments": {"order_id": order}}]


def cancel(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    order = _order_id(rng)
    text = _say(lang, "Please cancel order {order}.", "Hủy giúp tôi đơn hàng {order}.", order=order)
    return text, [{"name": "cancel_order", "arguments": {"order_id": order}}]


def add_event(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    title, date, time = _pick(rng, TITLES, lang), _date(rng), rng.choice(TIMES)
    text = _say(lang, 'Add "{title}" to my calendar on {date} at {time}.',
                'Thêm sự kiện "{title}" vào lịch ngày {date} lúc {time}.', title=title, date=date, time=time)
    return text, [{"name": "create_event", "arguments": {"title": title, "date": date, "time": time}}]


def day_events(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    date = _date(rng)
    text = _say(lang, "What's on my calendar on {date}?", "Ngày {date} tôi có những lịch hẹn gì?", date=date)
    return text, [{"name": "list_events", "arguments": {"date": date}}]


def switch_light(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    (room, name), on = _room(rng, lang), rng.random() < 0.5
    text = _say(lang, "Turn {state} the lights in the {room}.", "{state} đèn {room} giúp tôi.",
                state=("on" if on else "off") if lang == "en" else ("Bật" if on else "Tắt"), room=name)
    return text, [{"name": "set_light", "arguments": {"room": room, "on": on}}]


def dim_light(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    (room, name), level = _room(rng, lang), rng.choice([10, 25, 40, 60, 80])
    text = _say(lang, "Dim the {room} lights to {level}%.", "Chỉnh độ sáng đèn {room} xuống {level}%.",
                room=name, level=level)
    return text, [{"name": "set_light", "arguments": {"room": room, "on": True, "brightness": level}}]


def thermostat(rng: random.Random, lang: str) -> tuple[str, list[Call]]:
    (room, name), degrees = _room(rng, lang), rng.randint(18, 28)
    text = _say(lang, "Set the air conditioner in the {room} to {degrees} degrees.",
                "Đặt điều hòa {room} ở {degrees} độ.", room=name, degrees=degrees)
    return text, [{"name": "set_thermostat", "arguments": {"room": room, "temperature": degrees}}]


POSITIVES: dict[str, list[Task]] = {
    "weather": [weather_now, weather_unit, weather_two],
    "currency": [convert],
    "orders": [order_status, cancel],
    "calendar": [add_event, day_events],
    "smart_home": [switch_light, dim_light, thermostat],
}


# --- negatives: (question, tools) -------------------------------------------------------------

Negative = Callable[[random.Random, str], tuple[str, list[dict[str, Any]]]]


def _tools(*names: str) -> list[dict[str, Any]]:
    return [TOOLS[name] for name in names]


def domain_mismatch(rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    asked, offered = rng.sample(list(FAMILIES), 2)
    question, _ = rng.choice(POSITIVES[asked])(rng, lang)
    return question, _tools(*FAMILIES[offered])


def action_mismatch(rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    order, title, date = _order_id(rng), _pick(rng, TITLES, lang), _date(rng)
    return rng.choice([
        (_say(lang, "Please cancel order {order}.", "Hủy giúp tôi đơn hàng {order}.", order=order),
         _tools("get_order_status")),
        (_say(lang, "Where is my order {order}?", "Đơn hàng {order} của tôi đang ở đâu rồi?", order=order),
         _tools("cancel_order")),
        (_say(lang, 'Delete the "{title}" event on {date} from my calendar.',
              'Xóa sự kiện "{title}" ngày {date} khỏi lịch của tôi.', title=title, date=date),
         _tools("create_event", "list_events")),
    ])


def partial_fulfilment(rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    city, (amount, source, target), (_, room) = _pick(rng, CITIES, lang), _currencies(rng), _room(rng, lang)
    return rng.choice([
        (_say(lang, "What's the weather in {city}, and how much is {amount} {source} in {target}?",
              "Thời tiết ở {city} thế nào, và {amount} {source} đổi ra được bao nhiêu {target}?",
              city=city, amount=amount, source=source, target=target),
         _tools(rng.choice(["get_weather", "convert_currency"]))),
        (_say(lang, "Turn on the lights in the {room} and book me a taxi to the airport.",
              "Bật đèn {room} và đặt giúp tôi một chiếc taxi ra sân bay.", room=room),
         _tools("set_light", "set_thermostat")),
    ])


def permission(rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    order, (_, room), degrees = _order_id(rng), _room(rng, lang), rng.randint(18, 28)
    guest = {"type": "function", "function": {**TOOLS["set_thermostat"]["function"], "description":
             TOOLS["set_thermostat"]["function"]["description"] + GUEST_NOTE}}
    return rng.choice([
        (_say(lang, "Check the status of order {order}; it was placed on my neighbour's account, not mine.",
              "Kiểm tra giúp tôi đơn hàng {order}, đơn này đặt bằng tài khoản của hàng xóm tôi chứ không phải của tôi.",
              order=order),
         _tools("get_order_status", "cancel_order")),
        (_say(lang, "Set the air conditioner in the {room} to {degrees} degrees.",
              "Đặt điều hòa {room} ở {degrees} độ.", room=room, degrees=degrees),
         [guest, TOOLS["set_light"]]),
    ])


def format_mismatch(rng: random.Random, lang: str) -> tuple[str, list[dict[str, Any]]]:
    city, (amount, source, _), date = _pick(rng, CITIES, lang), _currencies(rng), _date(rng)
    return rng.choice([
        (_say(lang, "What's the temperature in {city} right now, in Kelvin?",
              "Nhiệt độ ở {city} bây giờ là bao nhiêu Kelvin?", city=city), _tools("get_weather")),
        (_say(lang, "How much is {amount} {source} in Bitcoin?", "{amount} {source} đổi ra được bao nhiêu Bitcoin?",
              amount=amount, source=source), _tools("convert_currency")),
        (_say(lang, "Export my calendar for {date} as a PDF file.", "Xuất lịch ngày {date} của tôi ra tệp PDF.",
              date=date), _tools("list_events", "create_event")),
    ])


NEGATIVES: dict[str, Negative] = {
    "domain_mismatch": domain_mismatch,
    "action_mismatch": action_mismatch,
    "partial_fulfilment": partial_fulfilment,
    "permission": permission,
    "format_mismatch": format_mismatch,
}


def generate(n: int, seed: int = 0, negative_share: float = NEGATIVE_SHARE) -> list[Record]:
    """`n` distinct records alternating English and Vietnamese, about `negative_share` of them negatives (types in
    turn); fewer only if the templates run out of distinct values."""
    rng = random.Random(seed)
    records: list[Record] = []
    seen: set[str] = set()
    kinds = list(NEGATIVES)
    made_negatives = 0
    for _ in range(n * MAX_TRIES_PER_RECORD):
        if len(records) >= n:
            break
        lang = LANGUAGES[len(records) % len(LANGUAGES)]
        if rng.random() < negative_share:
            kind = kinds[made_negatives % len(kinds)]  # every type in turn
            question, tools = NEGATIVES[kind](rng, lang)
            record = make_record([{"role": "user", "content": question}], tools, [], SOURCE, kind, lang)
        else:
            family = rng.choice(list(POSITIVES))
            question, calls = rng.choice(POSITIVES[family])(rng, lang)
            other = rng.choice([name for name in TOOLS if name not in FAMILIES[family]])
            tools = _tools(*FAMILIES[family])
            tools.insert(rng.randint(0, len(tools)), TOOLS[other])
            record = make_record([{"role": "user", "content": question}], tools, calls, SOURCE, "", lang)
        if record.key not in seen:
            seen.add(record.key)
            records.append(record)
            made_negatives += bool(record.negative_type)
    return records
