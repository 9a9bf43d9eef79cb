"""Daily-life domains: travel, getting around, food, money, health, messages and contacts, music, alarms, fitness,
recipes, restaurants, cinema, parking and pets. Vietnamese places, names and prices (VND) beside foreign ones."""

from __future__ import annotations

import random
from dataclasses import dataclass

from edgefc.train.data.families.domain import (CITIES, DATE, PEOPLE, TIME, Domain, Phrase, Pool, Step, Task, Value,
                                                amounts, boolean, choice, coded, const, dates, digits, integer, ints,
                                                number, register, same, string, times, tool, words)

# --- pools of several values (array arguments) ------------------------------------------------------------------


def _and(items: tuple[str, ...] | list[str], lang: str) -> str:
    last = " and " if lang == "en" else " và "
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + last + items[-1]


@dataclass(frozen=True)
class Listed(Value):
    """Several names said as one phrase ("chicken and ginger", "thịt gà và gừng"); a call sends them as a list in
    the request's language, a result as the English list."""

    en_items: tuple[str, ...] = ()
    vi_items: tuple[str, ...] = ()

    def data(self, lang: str) -> list[str]:
        return list(self.en_items if lang == "en" else self.vi_items)


def several(*pairs: Phrase, low: int = 2, high: int = 3) -> Pool:
    """`low`-`high` distinct names of `pairs`, sent as a list."""
    def draw(rng: random.Random) -> Value:
        picked = rng.sample(pairs, rng.randint(low, high))
        en, vi = tuple(p[0] for p in picked), tuple(p[1] for p in picked)
        return Listed(_and(en, "en"), _and(vi, "vi"), arg=list(en), en_items=en, vi_items=vi)
    return draw


def codes_list(*texts: str, low: int = 2, high: int = 3) -> Pool:
    """`low`-`high` distinct codes spelt alike in both languages (times), in order, sent as a list."""
    def draw(rng: random.Random) -> Value:
        picked = sorted(rng.sample(texts, rng.randint(low, high)))
        return Value(_and(picked, "en"), _and(picked, "vi"), arg=picked)
    return draw


def seat_block() -> Pool:
    """2-4 adjacent cinema seats of one row ("F7 and F8"), sent as a list of seat codes."""
    def draw(rng: random.Random) -> Value:
        row, start = rng.choice("CDEFGHJK"), rng.randint(1, 12)
        seats = [f"{row}{start + i}" for i in range(rng.randint(2, 4))]
        return Value(_and(seats, "en"), _and(seats, "vi"), arg=seats)
    return draw


def days_of_week(**days: tuple[str, str, list[str]]) -> Pool:
    """Repeat patterns said in words, sent as a list of weekday codes."""
    return lambda rng: (lambda k: Value(days[k][0], days[k][1], arg=list(days[k][2])))(rng.choice(list(days)))


def none_required(spec: dict) -> dict:
    """A tool whose every parameter is optional (`tool` reads an empty `required` as "all of them")."""
    spec["function"]["parameters"]["required"] = []
    return spec


def reported(*pairs: Phrase) -> Pool:
    """Names a tool reports in English that a later call sends on as reported ("@key"); an answer says them in the
    user's language."""
    return lambda rng: (lambda p: Value(p[0], p[1], arg=p[0]))(rng.choice(pairs))


def flight_numbers() -> Pool:
    return lambda rng: (lambda s: Value(s, s))(rng.choice(["VN", "VJ", "QH", "SQ", "TG", "KE"]) + str(rng.randint(100, 1899)))


def phones() -> Pool:
    """Vietnamese mobile numbers (10 digits), sent as a string."""
    return lambda rng: (lambda s: Value(s, s))(rng.choice(["090", "091", "098", "035", "086", "077"])
                                                + "".join(rng.choice("0123456789") for _ in range(7)))


# Pools several domains share.
VND = ints(20000, 350000, 1000)
PLATES = same("29A-123.45", "30G-678.90", "51F-246.80", "43A-135.79", "51K-555.12", "30H-902.33", "59X2-456.78")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

# --- travel_flights -------------------------------------------------------------------------------------------

FROM_CITIES = words(("Hanoi", "Hà Nội"), ("Ho Chi Minh City", "Thành phố Hồ Chí Minh"), ("Da Nang", "Đà Nẵng"),
                    ("Hai Phong", "Hải Phòng"), ("Can Tho", "Cần Thơ"))
TO_CITIES = words(("Phu Quoc", "Phú Quốc"), ("Da Lat", "Đà Lạt"), ("Hue", "Huế"), ("Nha Trang", "Nha Trang"),
                  ("Quy Nhon", "Quy Nhơn"), ("Bangkok", "Bangkok"), ("Singapore", "Singapore"), ("Seoul", "Seoul"),
                  ("Tokyo", "Tokyo"), ("Sydney", "Sydney"))
CABINS = {"economy": ("economy", "phổ thông"), "premium_economy": ("premium economy", "phổ thông đặc biệt"),
          "business": ("business class", "thương gia")}
FLIGHT_NO = string("Flight number, airline code and digits, e.g. VN245.")
PASSENGERS = integer("Number of passengers.", minimum=1, maximum=9)

FLIGHTS = Domain(
    name="travel_flights",
    tools=(
        tool("search_flights", "Searches flights between two cities on a date; returns the cheapest one's flight "
             "number, departure time and fare per person in VND.", ("origin", "destination", "date"),
             origin=string("Departure city."), destination=string("Arrival city."), date=DATE,
             passengers=PASSENGERS, cabin=choice("Cabin class.", CABINS)),
        tool("book_flight", "Books seats on one specific flight, given its flight number and date.",
             ("flight_number", "date", "passengers"),
             flight_number=FLIGHT_NO, date=DATE, passengers=PASSENGERS, cabin=choice("Cabin class.", CABINS)),
        tool("get_flight_status", "Live status of a flight by its number: on time, delayed or boarding, with its "
             "departure time and gate.", ("flight_number",), flight_number=FLIGHT_NO,
             date=DATE),
    ),
    slots={"origin": FROM_CITIES, "destination": TO_CITIES, "date": dates(), "count": ints(2, 6),
           "cabin": coded(**CABINS), "flight": flight_numbers(), "time": times(), "fare": ints(900000, 6500000, 50000),
           "total": ints(1800000, 30000000, 100000), "ref": digits(6, "BK"),
           "status": words(("on time", "đúng giờ"), ("delayed", "bị trễ"),
                           ("now boarding", "đang mời hành khách lên máy bay")),
           "gate": same("A3", "A7", "B2", "B11", "C5", "D1", "12", "15")},
    tasks=(
        Task(asks=(("Find flights from {origin} to {destination} on {date}.",
                    "Tìm chuyến bay từ {origin} đi {destination} ngày {date}."),
                   ("Are there any flights from {origin} to {destination} on {date}?",
                    "Ngày {date} có chuyến bay nào từ {origin} đến {destination} không?"),
                   ("I'm heading to {destination} on {date}. Can you look up flights out of {origin}?",
                    "Ngày {date} tôi muốn bay từ {origin} đi {destination}, bạn tra giúp tôi các chuyến bay nhé?")),
             many=(("Compare flights from {origin} on {date} to {items}.",
                    "So sánh giúp tôi các chuyến bay ngày {date} từ {origin} đi {items}."),),
             vary="destination",
             steps=(Step("search_flights", {"origin": "origin", "destination": "destination", "date": "date"},
                         {"origin": "=origin", "destination": "=destination", "cheapest_flight": "flight",
                          "departs": "time", "fare_vnd": "fare"}),),
             tells=(("The cheapest flight from {origin} to {destination} is {cheapest_flight} at {departs}, "
                     "{fare_vnd} VND.",
                     "Chuyến rẻ nhất từ {origin} đi {destination} là {cheapest_flight} lúc {departs}, giá {fare_vnd} đồng."),),
             facts=("cheapest_flight", "departs", "fare_vnd")),
        Task(asks=(("Search {cabin} flights from {origin} to {destination} on {date} for {count} people.",
                    "Tìm vé hạng {cabin} từ {origin} đi {destination} ngày {date} cho {count} người."),
                   ("We're {count} travellers flying {cabin} from {origin} to {destination} on {date}. What's available?",
                    "Nhóm tôi {count} người muốn bay hạng {cabin} từ {origin} đến {destination} ngày {date}, còn chuyến nào?")),
             steps=(Step("search_flights", {"origin": "origin", "destination": "destination", "date": "date",
                                            "passengers": "count", "cabin": "cabin"},
                         {"origin": "=origin", "destination": "=destination", "cheapest_flight": "flight",
                          "departs": "time", "fare_vnd": "fare"}),),
             tells=(("The cheapest {cabin} seat is on {cheapest_flight} at {departs}: {fare_vnd} VND per person.",
                     "Vé hạng {cabin} rẻ nhất là chuyến {cheapest_flight} lúc {departs}, {fare_vnd} đồng mỗi người."),),
             facts=("cheapest_flight", "fare_vnd")),
        Task(asks=(("Book flight {flight} on {date} for {count} passengers.",
                    "Đặt cho tôi chuyến bay {flight} ngày {date}, {count} hành khách."),
                   ("Could you reserve {count} seats on {flight} for {date}?",
                    "Bạn giữ giúp tôi {count} chỗ trên chuyến {flight} ngày {date} được không?")),
             steps=(Step("book_flight", {"flight_number": "flight", "date": "date", "passengers": "count"},
                         {"flight_number": "=flight_number", "booking_reference": "ref", "total_vnd": "total"}),),
             tells=(("Booked {flight_number} on {date}; your reference is {booking_reference}, total {total_vnd} VND.",
                     "Đã đặt chuyến {flight_number} ngày {date}, mã đặt chỗ {booking_reference}, tổng {total_vnd} đồng."),),
             facts=("booking_reference", "total_vnd")),
        Task(asks=(("Is flight {flight} on time?", "Chuyến bay {flight} có đúng giờ không?"),
                   ("What's the status of {flight}?", "Tình trạng chuyến bay {flight} thế nào rồi?"),
                   ("My mum is on {flight}, can you check it for me?", "Mẹ tôi đi chuyến {flight}, bạn kiểm tra giúp tôi nhé?")),
             many=(("Are flights {items} on time?", "Các chuyến bay {items} có đúng giờ không?"),),
             vary="flight",
             steps=(Step("get_flight_status", {"flight_number": "flight"},
                         {"flight_number": "=flight_number", "status": "status", "departure": "time", "gate": "gate"}),),
             tells=(("Flight {flight_number} is {status}, departing {departure} from gate {gate}.",
                     "Chuyến bay {flight_number} {status}, khởi hành lúc {departure} tại cửa {gate}."),),
             facts=("status", "departure", "gate")),
        Task(asks=(("Book the cheapest flight from {origin} to {destination} on {date} for {count} people.",
                    "Đặt chuyến bay rẻ nhất từ {origin} đi {destination} ngày {date} cho {count} người."),
                   ("Get {count} of us on the cheapest {origin} to {destination} flight on {date}.",
                    "Tìm chuyến rẻ nhất từ {origin} đến {destination} ngày {date} rồi đặt luôn cho {count} người.")),
             steps=(Step("search_flights", {"origin": "origin", "destination": "destination", "date": "date"},
                         {"origin": "=origin", "destination": "=destination", "cheapest_flight": "flight",
                          "departs": "time", "fare_vnd": "fare"}),
                    Step("book_flight", {"flight_number": "@cheapest_flight", "date": "date", "passengers": "count"},
                         {"flight_number": "=flight_number", "booking_reference": "ref", "total_vnd": "total"})),
             tells=(("Booked {flight_number} on {date} for {count}; reference {booking_reference}.",
                     "Đã đặt chuyến {flight_number} ngày {date} cho {count} người, mã đặt chỗ {booking_reference}."),),
             facts=("flight_number", "booking_reference")),
    ),
    unserved=(("Choose a window seat on flight {flight}.", "Chọn ghế cạnh cửa sổ trên chuyến bay {flight} cho tôi."),
              ("Add 20 kg of checked baggage to flight {flight}.", "Mua thêm 20 kg hành lý ký gửi cho chuyến bay {flight}."),
              ("Check me in online for {flight} and send the boarding pass.",
               "Làm thủ tục trực tuyến cho chuyến {flight} và gửi thẻ lên máy bay cho tôi.")),
)

# --- hotels ---------------------------------------------------------------------------------------------------

HOTEL_NAMES = same("Lotus Boutique Hotel", "Sunrise Riverside Hotel", "Golden Bay Resort", "Maple Garden Hotel",
                   "Jasmine Suites", "Mường Thanh Grand", "Blue Lagoon Hotel", "Silk Path Hotel")
NIGHTS = integer("Number of nights.", minimum=1, maximum=30)

HOTELS = Domain(
    name="hotels",
    tools=(
        tool("search_hotels", "Searches hotels with free rooms in a city for a stay; returns the best-rated match, its "
             "nightly price in VND and rating.", ("city", "check_in", "nights"),
             city=string("City."), check_in=DATE, nights=NIGHTS,
             guests=integer("Number of guests.", minimum=1, maximum=8),
             max_price_vnd=integer("Highest price per night, VND.", minimum=100000)),
        tool("book_hotel", "Books a room at a named hotel for a stay.", ("hotel_name", "check_in", "nights", "guests"),
             hotel_name=string("The hotel's name."), check_in=DATE, nights=NIGHTS,
             guests=integer("Number of guests.", minimum=1, maximum=8),
             breakfast=boolean("True to include breakfast.")),
        tool("cancel_hotel_booking", "Cancels a hotel booking by its booking id.",
             booking_id=string("Hotel booking id, e.g. HB123456.")),
    ),
    slots={"city": CITIES, "date": dates(), "nights": ints(2, 7), "guests": ints(2, 4), "hotel": HOTEL_NAMES,
           "budget": ints(1500000, 3000000, 500000), "room_price": ints(450000, 1400000, 50000),
           "rating": amounts(4.1, 4.3, 4.5, 4.6, 4.8), "booking": digits(6, "HB"),
           "total": ints(1200000, 12000000, 100000), "refund": ints(0, 3000000, 100000)},
    tasks=(
        Task(asks=(("Find me a hotel in {city} from {date} for {nights} nights.",
                    "Tìm giúp tôi khách sạn ở {city} từ ngày {date}, ở {nights} đêm."),
                   ("Any hotels in {city} for {nights} nights starting {date}?",
                    "Có khách sạn nào ở {city} cho {nights} đêm từ ngày {date} không?")),
             many=(("Look up hotels in {items} for {nights} nights from {date}.",
                    "Tra giúp tôi khách sạn ở {items}, {nights} đêm từ ngày {date}."),),
             vary="city",
             steps=(Step("search_hotels", {"city": "city", "check_in": "date", "nights": "nights"},
                         {"city": "=city", "top_hotel": "hotel", "price_per_night_vnd": "room_price",
                          "rating": "rating"}),),
             tells=(("{top_hotel} in {city} has rooms at {price_per_night_vnd} VND a night, rated {rating}.",
                     "{top_hotel} ở {city} còn phòng giá {price_per_night_vnd} đồng một đêm, được đánh giá {rating} sao."),),
             facts=("top_hotel", "price_per_night_vnd")),
        Task(asks=(("Find a hotel in {city} under {budget} VND a night, {nights} nights from {date}.",
                    "Tìm khách sạn ở {city} dưới {budget} đồng một đêm, {nights} đêm từ ngày {date}."),
                   ("I can spend at most {budget} VND a night. What's free in {city} from {date} for {nights} nights?",
                    "Tôi chỉ chi tối đa {budget} đồng một đêm, ở {city} từ ngày {date} trong {nights} đêm thì còn chỗ nào?")),
             steps=(Step("search_hotels", {"city": "city", "check_in": "date", "nights": "nights",
                                           "max_price_vnd": "budget"},
                         {"city": "=city", "top_hotel": "hotel", "price_per_night_vnd": "room_price",
                          "rating": "rating"}),),
             tells=(("{top_hotel} fits your budget at {price_per_night_vnd} VND a night.",
                     "{top_hotel} hợp túi tiền của bạn, giá {price_per_night_vnd} đồng một đêm."),),
             facts=("top_hotel", "price_per_night_vnd")),
        Task(asks=(("Book a room at {hotel} for {guests} guests, checking in {date} for {nights} nights, with breakfast.",
                    "Đặt phòng ở {hotel} cho {guests} người, nhận phòng ngày {date}, ở {nights} đêm, có kèm bữa sáng."),
                   ("Could you reserve {hotel} from {date}, {nights} nights for {guests} of us? Breakfast included, please.",
                    "Bạn đặt giúp tôi {hotel} từ ngày {date}, {nights} đêm cho {guests} người nhé, nhớ kèm bữa sáng.")),
             slots={"yes": const(True, "with breakfast", "kèm bữa sáng")},
             steps=(Step("book_hotel", {"hotel_name": "hotel", "check_in": "date", "nights": "nights",
                                        "guests": "guests", "breakfast": "yes"},
                         {"booking_id": "booking", "hotel_name": "=hotel_name", "total_vnd": "total"}),),
             tells=(("Booked {hotel_name} from {date} for {nights} nights; booking {booking_id}, total {total_vnd} VND.",
                     "Đã đặt {hotel_name} từ ngày {date}, {nights} đêm, mã đặt phòng {booking_id}, tổng {total_vnd} đồng."),),
             facts=("booking_id", "total_vnd")),
        Task(asks=(("Cancel my hotel booking {booking}.", "Hủy đặt phòng khách sạn mã {booking} giúp tôi."),
                   ("I need to cancel reservation {booking}, my plans changed.",
                    "Tôi cần hủy đặt phòng {booking}, kế hoạch thay đổi rồi.")),
             steps=(Step("cancel_hotel_booking", {"booking_id": "booking"},
                         {"booking_id": "=booking_id", "refund_vnd": "refund"}),),
             tells=(("Booking {booking_id} is cancelled; {refund_vnd} VND will be refunded.",
                     "Đã hủy đặt phòng {booking_id}, bạn sẽ được hoàn {refund_vnd} đồng."),),
             facts=("refund_vnd",)),
        Task(asks=(("Book the best-rated hotel in {city} from {date} for {nights} nights, {guests} guests.",
                    "Đặt khách sạn được đánh giá cao nhất ở {city} từ ngày {date}, {nights} đêm, cho {guests} người."),
                   ("Just grab the top hotel in {city} for {guests} of us, {nights} nights from {date}.",
                    "Chọn luôn khách sạn tốt nhất ở {city} cho {guests} người, {nights} đêm từ ngày {date} rồi đặt giúp tôi.")),
             steps=(Step("search_hotels", {"city": "city", "check_in": "date", "nights": "nights"},
                         {"city": "=city", "top_hotel": "hotel", "price_per_night_vnd": "room_price",
                          "rating": "rating"}),
                    Step("book_hotel", {"hotel_name": "@top_hotel", "check_in": "date", "nights": "nights",
                                        "guests": "guests"},
                         {"booking_id": "booking", "hotel_name": "=hotel_name", "total_vnd": "total"})),
             tells=(("Booked {hotel_name} in {city}: booking {booking_id}, {total_vnd} VND in total.",
                     "Đã đặt {hotel_name} ở {city}: mã đặt phòng {booking_id}, tổng cộng {total_vnd} đồng."),),
             facts=("hotel_name", "booking_id")),
    ),
    unserved=(("Ask {hotel} for a late checkout.", "Xin {hotel} cho tôi trả phòng muộn."),
              ("Show me photos of the rooms at {hotel}.", "Cho tôi xem ảnh phòng của {hotel}."),
              ("Pay for booking {booking} with my loyalty points.", "Thanh toán đặt phòng {booking} bằng điểm thành viên.")),
)

# --- ride_hailing ---------------------------------------------------------------------------------------------

ADDRESSES = same("12 Lý Thường Kiệt", "45 Nguyễn Huệ", "88 Trần Phú", "7 Hàng Bài", "102 Lê Lợi", "23 Pasteur",
                 "56 Bạch Đằng")
LANDMARKS = words(("Noi Bai Airport", "sân bay Nội Bài"), ("Tan Son Nhat Airport", "sân bay Tân Sơn Nhất"),
                  ("Ben Thanh Market", "chợ Bến Thành"), ("Hanoi Railway Station", "ga Hà Nội"),
                  ("My Dinh Bus Station", "bến xe Mỹ Đình"), ("Landmark 81", "Landmark 81"),
                  ("Lotte Center", "Lotte Center"), ("Dragon Bridge", "cầu Rồng"))
VEHICLES = {"bike": ("motorbike", "xe máy"), "car4": ("4-seat car", "xe 4 chỗ"), "car7": ("7-seat car", "xe 7 chỗ")}
RIDE_PLACES = {"pickup": string("Pickup address or place."), "destination": string("Drop-off address or place.")}

RIDES = Domain(
    name="ride_hailing",
    tools=(
        tool("request_ride", "Books a ride-hailing driver now, or for a later pickup time today.",
             ("pickup", "destination"), **RIDE_PLACES, vehicle=choice("Vehicle type.", VEHICLES),
             pickup_time=TIME),
        tool("estimate_ride_fare", "Estimates the fare in VND and trip time of a ride, without booking it.",
             ("pickup", "destination", "vehicle"), **RIDE_PLACES, vehicle=choice("Vehicle type.", VEHICLES)),
        tool("get_active_ride", "The user's current ride: its id, driver, plate and minutes until pickup."),
        tool("cancel_ride", "Cancels a booked ride by its ride id.", ride_id=string("Ride id, as get_active_ride returns it.")),
    ),
    slots={"pickup": ADDRESSES, "destination": LANDMARKS, "vehicle": coded(**VEHICLES), "time": times(),
           "ride": digits(6, "RD"), "driver": PEOPLE, "plate": PLATES, "eta": ints(2, 12), "fare": VND,
           "minutes": ints(8, 55), "fee": ints(0, 20000, 5000)},
    tasks=(
        Task(asks=(("Book a {vehicle} ride from {pickup} to {destination}.",
                    "Đặt cho tôi một {vehicle} từ {pickup} đến {destination}."),
                   ("I need to get from {pickup} to {destination}, can you call me a {vehicle}?",
                    "Tôi cần đi từ {pickup} đến {destination}, gọi giúp tôi một {vehicle} nhé?")),
             steps=(Step("request_ride", {"pickup": "pickup", "destination": "destination", "vehicle": "vehicle"},
                         {"ride_id": "ride", "driver": "driver", "plate": "plate", "eta_minutes": "eta"}),),
             tells=(("{driver} is on the way, plate {plate}, arriving in {eta_minutes} minutes.",
                     "Tài xế {driver} đang đến, biển số {plate}, khoảng {eta_minutes} phút nữa tới."),),
             facts=("driver", "plate", "eta_minutes")),
        Task(asks=(("Schedule a ride from {pickup} to {destination} at {time}.",
                    "Hẹn xe đón tôi ở {pickup} lúc {time} để đi {destination}."),
                   ("I have to be at {destination} early. Have a driver pick me up at {pickup} at {time}, please.",
                    "Tôi phải có mặt ở {destination} sớm, đặt xe đón tôi ở {pickup} lúc {time} giúp nhé.")),
             steps=(Step("request_ride", {"pickup": "pickup", "destination": "destination", "pickup_time": "time"},
                         {"ride_id": "ride", "driver": "driver", "plate": "plate", "pickup_time": "=pickup_time"}),),
             tells=(("Booked: {driver} will pick you up at {pickup_time}, plate {plate}.",
                     "Đã đặt xe: tài xế {driver} sẽ đón bạn lúc {pickup_time}, biển số {plate}."),),
             facts=("driver", "pickup_time")),
        Task(asks=(("How much is a {vehicle} ride from {pickup} to {destination}?",
                    "Đi {vehicle} từ {pickup} đến {destination} hết bao nhiêu tiền?"),
                   ("Estimate the fare for a {vehicle} from {pickup} to {destination}.",
                    "Ước tính giúp tôi giá cước {vehicle} từ {pickup} đến {destination}.")),
             many=(("Compare {items} fares from {pickup} to {destination}.",
                    "So sánh giúp tôi giá cước {items} từ {pickup} đến {destination}."),),
             vary="vehicle",
             steps=(Step("estimate_ride_fare", {"pickup": "pickup", "destination": "destination", "vehicle": "vehicle"},
                         {"vehicle": "=vehicle", "fare_vnd": "fare", "duration_minutes": "minutes"}),),
             tells=(("A {vehicle} costs about {fare_vnd} VND and takes {duration_minutes} minutes.",
                     "Đi {vehicle} hết khoảng {fare_vnd} đồng, mất {duration_minutes} phút."),),
             facts=("fare_vnd", "duration_minutes")),
        Task(asks=(("Where's my driver?", "Tài xế của tôi đang ở đâu rồi?"),
                   ("How long until my ride gets here?", "Bao lâu nữa xe tới đón tôi?")),
             steps=(Step("get_active_ride", {},
                         {"ride_id": "ride", "driver": "driver", "plate": "plate", "eta_minutes": "eta"}),),
             tells=(("{driver} ({plate}) will arrive in {eta_minutes} minutes.",
                     "Tài xế {driver} (biển số {plate}) sẽ tới trong {eta_minutes} phút nữa."),),
             facts=("eta_minutes",)),
        Task(asks=(("Cancel my ride.", "Hủy chuyến xe của tôi."),
                   ("I don't need the car anymore, cancel it.", "Tôi không cần xe nữa, hủy giúp tôi nhé.")),
             steps=(Step("get_active_ride", {},
                         {"ride_id": "ride", "driver": "driver", "plate": "plate", "eta_minutes": "eta"}),
                    Step("cancel_ride", {"ride_id": "@ride_id"},
                         {"ride_id": "=ride_id", "cancellation_fee_vnd": "fee"})),
             tells=(("Ride {ride_id} is cancelled; the cancellation fee is {cancellation_fee_vnd} VND.",
                     "Đã hủy chuyến {ride_id}, phí hủy là {cancellation_fee_vnd} đồng."),),
             facts=("cancellation_fee_vnd",)),
    ),
    unserved=(("Give my last driver five stars.", "Đánh giá tài xế chuyến trước năm sao."),
              ("Split the fare from {pickup} to {destination} with a friend.",
               "Chia tiền cước từ {pickup} đến {destination} với bạn tôi."),
              ("Can you book me a helicopter from {pickup} to {destination}?", "Đặt trực thăng từ {pickup} đến {destination}.")),
)

# --- food_delivery --------------------------------------------------------------------------------------------

FOOD_PLACES = same("Quán Ngon", "Bếp Nhà Mình", "Lotus Kitchen", "Saigon Street Eats", "Hanoi Corner", "Mekong Bistro",
                   "Cơm Nhà Bà Tư")
DISHES = several(("beef pho", "phở bò"), ("fresh spring rolls", "gỏi cuốn"), ("fried spring rolls", "nem rán"),
                 ("broken rice with grilled pork", "cơm tấm sườn"), ("banh mi", "bánh mì"),
                 ("grilled pork with noodles", "bún chả"), ("iced milk coffee", "cà phê sữa đá"),
                 ("chicken rice", "cơm gà"), ("papaya salad", "gỏi đu đủ"), low=1, high=3)
FOOD_ORDER_ID = string("Food order id, e.g. FD123456.")

FOOD = Domain(
    name="food_delivery",
    tools=(
        tool("order_food", "Places a food delivery order from a restaurant to the user's saved address.",
             ("restaurant", "dishes"), restaurant=string("Restaurant name."),
             dishes={"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Dishes to order."},
             note=string("Note for the restaurant."), contactless=boolean("True to leave the order at the door.")),
        tool("track_food_order", "Status and minutes to arrival of a food delivery order.", order_id=FOOD_ORDER_ID),
        tool("list_food_orders", "The user's most recent food delivery orders, newest first.",
             limit=integer("How many orders to return.", minimum=1, maximum=10)),
    ),
    slots={"restaurant": FOOD_PLACES, "dishes": DISHES, "food_order": digits(6, "FD"), "total": VND,
           "eta": ints(10, 45), "note": words(("no chili", "không cay"), ("extra herbs", "thêm rau thơm"),
                                             ("no ice in the drinks", "đồ uống không đá"),
                                             ("no cutlery needed", "không cần lấy dụng cụ ăn")),
           "food_status": words(("being prepared", "đang được chuẩn bị"), ("picked up by the driver", "tài xế đã lấy món"),
                                ("on the way", "đang trên đường giao"))},
    tasks=(
        Task(asks=(("Please order {dishes} from {restaurant} for me.", "Đặt giúp tôi {dishes} ở {restaurant} với."),
                   ("Can you get me {dishes} from {restaurant}?", "Tôi muốn gọi {dishes} từ {restaurant}, đặt giúp tôi nhé."),
                   ("I'm starving, order {dishes} from {restaurant} please.",
                    "Tôi đói quá, đặt giúp tôi {dishes} ở {restaurant} với.")),
             steps=(Step("order_food", {"restaurant": "restaurant", "dishes": "dishes"},
                         {"order_id": "food_order", "restaurant": "=restaurant", "total_vnd": "total",
                          "eta_minutes": "eta"}),),
             tells=(("Ordered from {restaurant}: {total_vnd} VND, arriving in about {eta_minutes} minutes.",
                     "Đã đặt món ở {restaurant}: tổng {total_vnd} đồng, khoảng {eta_minutes} phút nữa sẽ giao tới."),),
             facts=("total_vnd", "eta_minutes")),
        Task(asks=(("Order {dishes} from {restaurant} with a note: {note}.", "Đặt {dishes} ở {restaurant}, nhớ dặn quán là {note}."),
                   ("Get me {dishes} from {restaurant}, and tell them {note}.",
                    "Gọi {dishes} của {restaurant} giúp tôi, dặn quán là {note} nhé.")),
             steps=(Step("order_food", {"restaurant": "restaurant", "dishes": "dishes", "note": "note"},
                         {"order_id": "food_order", "restaurant": "=restaurant", "total_vnd": "total",
                          "eta_minutes": "eta"}),),
             tells=(("Order {order_id} is placed with your note; {total_vnd} VND, about {eta_minutes} minutes.",
                     "Đã đặt đơn {order_id} kèm ghi chú, tổng {total_vnd} đồng, khoảng {eta_minutes} phút nữa tới."),),
             facts=("order_id", "total_vnd")),
        Task(asks=(("Order {dishes} from {restaurant} and have them leave it at my door.",
                    "Đặt {dishes} ở {restaurant}, giao tới thì để trước cửa giúp tôi."),
                   ("Contactless delivery, please: {dishes} from {restaurant}.",
                    "Đặt giúp tôi {dishes} ở {restaurant}, giao không tiếp xúc nhé.")),
             slots={"door": const(True, "contactless", "không tiếp xúc")},
             steps=(Step("order_food", {"restaurant": "restaurant", "dishes": "dishes", "contactless": "door"},
                         {"order_id": "food_order", "restaurant": "=restaurant", "total_vnd": "total",
                          "eta_minutes": "eta"}),),
             tells=(("Done, it will be left at your door in about {eta_minutes} minutes; {total_vnd} VND.",
                     "Xong, khoảng {eta_minutes} phút nữa món sẽ được để trước cửa, tổng {total_vnd} đồng."),),
             facts=("eta_minutes", "total_vnd")),
        Task(asks=(("Where is my food order {food_order}?", "Đơn đồ ăn {food_order} của tôi đang ở đâu?"),
                   ("Track order {food_order}.", "Theo dõi đơn {food_order} giúp tôi.")),
             many=(("Track my food orders {items}.", "Theo dõi giúp tôi các đơn đồ ăn {items}."),),
             vary="food_order",
             steps=(Step("track_food_order", {"order_id": "food_order"},
                         {"order_id": "=order_id", "status": "food_status", "eta_minutes": "eta"}),),
             tells=(("Order {order_id} is {status}; about {eta_minutes} minutes to go.",
                     "Đơn {order_id}: {status}, khoảng {eta_minutes} phút nữa sẽ tới."),),
             facts=("status", "eta_minutes")),
        Task(asks=(("Where's my food?", "Đồ ăn của tôi tới đâu rồi?"),
                   ("How long until my food arrives?", "Bao lâu nữa đồ ăn của tôi mới tới?")),
             slots={"one": const(1)},
             steps=(Step("list_food_orders", {"limit": "one"},
                         {"latest_order_id": "food_order", "restaurant": "restaurant"}),
                    Step("track_food_order", {"order_id": "@latest_order_id"},
                         {"order_id": "=order_id", "status": "food_status", "eta_minutes": "eta"})),
             tells=(("Your order {order_id} is {status}, about {eta_minutes} minutes away.",
                     "Đơn {order_id} của bạn: {status}, còn khoảng {eta_minutes} phút."),),
             facts=("status", "eta_minutes")),
    ),
    unserved=(("Change the delivery address of order {food_order}.", "Đổi địa chỉ giao của đơn {food_order}."),
              ("Give {restaurant} a one-star review.", "Đánh giá {restaurant} một sao."),
              ("Split the bill for order {food_order} with my friends.", "Chia tiền đơn {food_order} với bạn bè của tôi.")),
)

# --- banking --------------------------------------------------------------------------------------------------

ACCOUNTS = {"checking": ("checking", "thanh toán"), "savings": ("savings", "tiết kiệm"),
            "credit": ("credit card", "thẻ tín dụng")}

BANKING = Domain(
    name="banking",
    tools=(
        tool("get_account_balance", "Current balance in VND of one of the user's bank accounts.",
             account=choice("Which account.", ACCOUNTS)),
        tool("transfer_money", "Transfers money in VND from the user's account to a saved recipient.",
             ("recipient", "amount_vnd"), recipient=string("The saved recipient's name."),
             amount_vnd=integer("Amount in VND.", minimum=1000), message=string("Transfer message."),
             from_account=choice("Account to pay from.", ACCOUNTS)),
        none_required(tool(
            "list_transactions", "The user's recent transactions: how many, the largest, or the latest incoming or "
            "outgoing one.", account=choice("Which account.", ACCOUNTS),
            days=integer("How many days back.", minimum=1, maximum=90),
            direction=choice("Money in or out.", ["incoming", "outgoing"]))),
    ),
    slots={"account": coded(**ACCOUNTS), "person": PEOPLE, "amount": ints(50000, 5000000, 50000),
           "balance": ints(200000, 90000000, 10000), "txn": digits(8, "TX"), "days": ints(3, 30),
           "count": ints(2, 40), "merchant": same("Circle K", "WinMart", "Highlands Coffee", "Grab", "Shopee",
                                                 "Điện Máy Xanh", "Phúc Long"),
           "memo": words(("rent for March", "tiền nhà tháng 3"), ("dinner last night", "tiền ăn tối qua"),
                         ("birthday gift", "quà sinh nhật"), ("football fees", "tiền đá bóng"))},
    tasks=(
        Task(asks=(("What's my {account} balance?", "Số dư tài khoản {account} của tôi là bao nhiêu?"),
                   ("How much is in my {account} account?", "Tài khoản {account} của tôi còn bao nhiêu tiền?")),
             many=(("Show me my {items} balances.", "Cho tôi xem số dư các tài khoản {items}."),),
             vary="account",
             steps=(Step("get_account_balance", {"account": "account"},
                         {"account": "=account", "balance_vnd": "balance"}),),
             tells=(("Your {account} balance is {balance_vnd} VND.", "Số dư tài khoản {account} của bạn là {balance_vnd} đồng."),),
             facts=("balance_vnd",)),
        Task(asks=(("Please transfer {amount} VND to {person}.", "Chuyển {amount} đồng cho {person}."),
                   ("Send {person} {amount} dong from my account, please.", "Gửi {person} {amount} đồng giúp tôi."),
                   ("I owe {person} {amount} VND, can you pay them back?", "Tôi nợ {person} {amount} đồng, chuyển trả giúp tôi nhé?")),
             many=(("Please send {amount} VND from my account to each of {items}.", "Chuyển cho {items} mỗi người {amount} đồng."),),
             vary="person",
             steps=(Step("transfer_money", {"recipient": "person", "amount_vnd": "amount"},
                         {"recipient": "=recipient", "amount_vnd": "=amount_vnd", "transaction_id": "txn",
                          "new_balance_vnd": "balance"}),),
             tells=(("Sent {amount_vnd} VND to {recipient}; your balance is now {new_balance_vnd} VND.",
                     "Đã chuyển {amount_vnd} đồng cho {recipient}, số dư còn {new_balance_vnd} đồng."),),
             facts=("amount_vnd", "new_balance_vnd")),
        Task(asks=(('Transfer {amount} VND to {person} with the message "{memo}".',
                    'Chuyển {amount} đồng cho {person}, nội dung "{memo}".'),
                   ('Pay {person} {amount} VND for "{memo}".', 'Chuyển cho {person} {amount} đồng, ghi là "{memo}".')),
             steps=(Step("transfer_money", {"recipient": "person", "amount_vnd": "amount", "message": "memo"},
                         {"recipient": "=recipient", "amount_vnd": "=amount_vnd", "transaction_id": "txn",
                          "new_balance_vnd": "balance"}),),
             tells=(("Done: {amount_vnd} VND to {recipient}, transaction {transaction_id}.",
                     "Xong: đã chuyển {amount_vnd} đồng cho {recipient}, mã giao dịch {transaction_id}."),),
             facts=("transaction_id",)),
        Task(asks=(("Show my {account} transactions from the last {days} days.",
                    "Cho tôi xem các giao dịch của tài khoản {account} trong {days} ngày vừa rồi."),
                   ("What did I spend on my {account} account in the past {days} days?",
                    "{days} ngày qua tôi đã chi tiêu gì bằng tài khoản {account}?")),
             steps=(Step("list_transactions", {"account": "account", "days": "days"},
                         {"count": "count", "largest_merchant": "merchant", "largest_amount_vnd": "amount"}),),
             tells=(("You made {count} transactions; the largest was {largest_amount_vnd} VND at {largest_merchant}.",
                     "Bạn có {count} giao dịch, lớn nhất là {largest_amount_vnd} đồng tại {largest_merchant}."),),
             facts=("count", "largest_merchant", "largest_amount_vnd")),
        Task(asks=(("Send back the last transfer I received.", "Chuyển trả lại khoản tiền gần nhất mà tôi nhận được."),
                   ("Whoever sent me money last, send them the same amount back.",
                    "Ai vừa chuyển tiền cho tôi thì chuyển trả lại đúng số đó giúp tôi.")),
             slots={"incoming": const("incoming")},
             steps=(Step("list_transactions", {"direction": "incoming"},
                         {"latest_from": "person", "latest_amount_vnd": "amount"}),
                    Step("transfer_money", {"recipient": "@latest_from", "amount_vnd": "@latest_amount_vnd"},
                         {"recipient": "=recipient", "amount_vnd": "=amount_vnd", "transaction_id": "txn",
                          "new_balance_vnd": "balance"})),
             tells=(("Sent {amount_vnd} VND back to {recipient}.", "Đã chuyển trả {amount_vnd} đồng cho {recipient}."),),
             facts=("recipient", "amount_vnd")),
    ),
    unserved=(("Open a new savings account for me.", "Mở giúp tôi một tài khoản tiết kiệm mới."),
              ("Convert my {account} balance to US dollars.", "Đổi số dư tài khoản {account} sang đô la Mỹ."),
              ("Block my credit card, I lost it.", "Khóa thẻ tín dụng của tôi, tôi bị mất thẻ rồi.")),
)

# --- health ---------------------------------------------------------------------------------------------------

SPECIALTIES = {"general": ("general practitioner", "bác sĩ đa khoa"), "dermatology": ("dermatologist", "bác sĩ da liễu"),
               "pediatrics": ("pediatrician", "bác sĩ nhi"), "cardiology": ("cardiologist", "bác sĩ tim mạch"),
               "neurology": ("neurologist", "bác sĩ thần kinh")}
CLINICS = words(("Hong Ngoc Clinic", "Phòng khám Hồng Ngọc"), ("Family Medical Practice", "Family Medical Practice"),
                ("Medlatec Clinic", "Phòng khám Medlatec"), ("Thu Cuc Clinic", "Phòng khám Thu Cúc"),
                ("Raffles Medical", "Raffles Medical"))
SPECIALTY = choice("Medical specialty.", SPECIALTIES)

HEALTH = Domain(
    name="health",
    tools=(
        tool("find_appointment_slots", "Free doctor appointment times of a specialty on a date, without booking.",
             specialty=SPECIALTY, date=DATE),
        tool("book_doctor_appointment", "Books the user a doctor appointment of a specialty at a date and time.",
             specialty=SPECIALTY, date=DATE, time=TIME),
        tool("refill_prescription", "Requests a refill of one of the user's prescriptions by its number.",
             ("prescription_id",), prescription_id=string("Prescription number, e.g. RX1234567."),
             supply_days=integer("Days of medicine to dispense.", enum=[30, 60, 90])),
        tool("get_clinic_hours", "Opening and closing time of a clinic on a date.", clinic=string("Clinic name."),
             date=DATE),
    ),
    slots={"specialty": coded(**SPECIALTIES), "date": dates(), "appt": digits(5, "AP"),
           "time": same("07:30", "08:00", "08:30", "09:15", "10:00", "10:45", "13:30", "14:00", "15:15", "16:30"),
           "doctor": same("Nguyễn Thị Hà", "Trần Minh Đức", "Lê Quang Huy", "Phạm Thu Trang", "Sarah Miller",
                          "Võ Thanh Bình"),
           "count": ints(2, 9), "rx": digits(7, "RX"), "supply": ints(30, 90, 30), "clinic": CLINICS,
           "opening": same("07:00", "07:30", "08:00"), "closing": same("17:00", "19:30", "20:00")},
    tasks=(
        Task(asks=(("Book an appointment with a {specialty} on {date} at {time}.",
                    "Đặt lịch khám với {specialty} ngày {date} lúc {time}."),
                   ("I'd like to see a {specialty} on {date} at {time}, please.",
                    "Tôi muốn gặp {specialty} vào {time} ngày {date}, bạn đặt lịch giúp nhé."),
                   ("Can you get me a {specialty} appointment for {date}, {time}?",
                    "Đặt giúp tôi một lịch hẹn {specialty} vào ngày {date}, lúc {time} được không?")),
             steps=(Step("book_doctor_appointment", {"specialty": "specialty", "date": "date", "time": "time"},
                         {"appointment_id": "appt", "doctor": "doctor", "date": "=date", "time": "=time"}),),
             tells=(("You're booked with Dr. {doctor} on {date} at {time}.",
                     "Bạn đã có lịch khám với bác sĩ {doctor} ngày {date} lúc {time}."),),
             facts=("doctor", "time")),
        Task(asks=(("When is a {specialty} free on {date}?", "Ngày {date} còn giờ trống nào với {specialty} không?"),
                   ("Show me open {specialty} slots on {date}.", "Cho tôi xem các giờ khám {specialty} còn trống ngày {date}.")),
             steps=(Step("find_appointment_slots", {"specialty": "specialty", "date": "date"},
                         {"date": "=date", "earliest_time": "time", "doctor": "doctor", "free_slots": "count"}),),
             tells=(("{free_slots} slots are free on {date}; the earliest is {earliest_time} with Dr. {doctor}.",
                     "Ngày {date} còn {free_slots} giờ trống, sớm nhất là {earliest_time} với bác sĩ {doctor}."),),
             facts=("free_slots", "earliest_time")),
        Task(asks=(("Book me the earliest {specialty} appointment on {date}.",
                    "Đặt giúp tôi lịch khám {specialty} sớm nhất trong ngày {date}."),
                   ("Get me in to see a {specialty} on {date}, as early as possible.",
                    "Ngày {date} tôi cần gặp {specialty}, đặt giờ sớm nhất có thể nhé.")),
             steps=(Step("find_appointment_slots", {"specialty": "specialty", "date": "date"},
                         {"date": "=date", "earliest_time": "time", "doctor": "doctor", "free_slots": "count"}),
                    Step("book_doctor_appointment", {"specialty": "specialty", "date": "date", "time": "@earliest_time"},
                         {"appointment_id": "appt", "doctor": "doctor", "date": "=date", "time": "=time"})),
             tells=(("Booked the earliest slot: {time} on {date} with Dr. {doctor}.",
                     "Đã đặt giờ sớm nhất: {time} ngày {date} với bác sĩ {doctor}."),),
             facts=("time", "doctor")),
        Task(asks=(("Refill prescription {rx}.", "Đặt lấy thêm thuốc theo đơn {rx} giúp tôi."),
                   ("I'm running low on my medicine. Can you request a refill of prescription {rx}?",
                    "Thuốc của tôi sắp hết, bạn gửi yêu cầu lấy thêm thuốc theo đơn {rx} giúp tôi nhé?")),
             many=(("Refill prescriptions {items}.", "Đặt lấy thêm thuốc cho các đơn {items}."),),
             vary="rx",
             steps=(Step("refill_prescription", {"prescription_id": "rx"},
                         {"prescription_id": "=prescription_id", "ready_on": "date", "pickup_at": "clinic"}),),
             tells=(("Prescription {prescription_id} will be ready at {pickup_at} on {ready_on}.",
                     "Thuốc theo đơn {prescription_id} sẽ có tại {pickup_at} vào ngày {ready_on}."),),
             facts=("ready_on", "pickup_at")),
        Task(asks=(("Refill prescription {rx} with a {supply}-day supply.",
                    "Lấy thêm thuốc theo đơn {rx}, đủ dùng {supply} ngày."),
                   ("Please refill {rx}, enough for {supply} days.", "Làm ơn lấy thêm thuốc đơn {rx} cho {supply} ngày.")),
             steps=(Step("refill_prescription", {"prescription_id": "rx", "supply_days": "supply"},
                         {"prescription_id": "=prescription_id", "supply_days": "=supply_days", "ready_on": "date"}),),
             tells=(("A {supply_days}-day refill of {prescription_id} will be ready on {ready_on}.",
                     "Thuốc đơn {prescription_id} cho {supply_days} ngày sẽ có vào ngày {ready_on}."),),
             facts=("ready_on",)),
        Task(asks=(("What are the opening hours of {clinic} on {date}?", "Ngày {date} {clinic} mở cửa mấy giờ?"),
                   ("Is {clinic} open on {date}?", "{clinic} có mở cửa vào ngày {date} không?")),
             steps=(Step("get_clinic_hours", {"clinic": "clinic", "date": "date"},
                         {"clinic": "=clinic", "opens": "opening", "closes": "closing"}),),
             tells=(("On {date}, {clinic} is open from {opens} to {closes}.",
                     "Ngày {date}, {clinic} mở cửa từ {opens} đến {closes}."),),
             facts=("opens", "closes")),
    ),
    unserved=(("Cancel my {specialty} appointment on {date}.", "Hủy lịch khám {specialty} ngày {date} của tôi."),
              ("Download my vaccination records as a PDF.", "Tải hồ sơ tiêm chủng của tôi về dạng PDF."),
              ("Send my blood test results from {clinic} to my email.",
               "Gửi kết quả xét nghiệm máu ở {clinic} vào email của tôi.")),
)

# --- pharmacy -------------------------------------------------------------------------------------------------

DISTRICTS = words(("District 1", "Quận 1"), ("District 3", "Quận 3"), ("Binh Thanh", "Bình Thạnh"),
                  ("Hoan Kiem", "Hoàn Kiếm"), ("Cau Giay", "Cầu Giấy"), ("Hai Chau", "Hải Châu"), ("Thu Duc", "Thủ Đức"))
PHARMACY_NAMES = (("Long Chau", "Long Châu"), ("Pharmacity", "Pharmacity"), ("An Khang", "An Khang"),
                  ("Guardian", "Guardian"), ("Trung Son", "Trung Sơn"))
PHARMACIES = words(*PHARMACY_NAMES)
MEDICINES = words(("paracetamol", "paracetamol"), ("ibuprofen", "ibuprofen"), ("oral rehydration salts", "oresol"),
                  ("vitamin C tablets", "viên vitamin C"), ("antihistamine tablets", "thuốc chống dị ứng"),
                  ("throat lozenges", "viên ngậm ho"))

PHARMACY = Domain(
    name="pharmacy",
    tools=(
        tool("find_pharmacy", "Finds the nearest pharmacy in a district, optionally one open now or open 24 hours.",
             ("district",), district=string("District or area."), open_now=boolean("Only pharmacies open now."),
             open_24h=boolean("Only pharmacies open 24 hours.")),
        tool("check_medicine_stock", "How many packs of an over-the-counter medicine a pharmacy has, and the price.",
             medicine=string("Medicine name."), pharmacy=string("Pharmacy name.")),
        tool("reserve_medicine", "Reserves packs of an over-the-counter medicine at a pharmacy for pickup; no "
             "prescriptions.", medicine=string("Medicine name."), pharmacy=string("Pharmacy name."),
             quantity=integer("Number of packs.", minimum=1, maximum=10)),
    ),
    slots={"district": DISTRICTS, "pharmacy": PHARMACIES, "found": reported(*PHARMACY_NAMES), "medicine": MEDICINES, "quantity": ints(2, 5),
           "address": ADDRESSES, "closing": same("21:00", "22:00", "23:00"), "stock": ints(3, 40),
           "price": ints(15000, 180000, 1000), "resv": digits(5, "PH")},
    tasks=(
        Task(asks=(("Find a pharmacy open now in {district}.", "Tìm nhà thuốc đang mở cửa ở {district}."),
                   ("I need medicine. Is there a pharmacy open right now in {district}?",
                    "Tôi cần mua thuốc, ở {district} bây giờ có nhà thuốc nào còn mở không?")),
             many=(("Find open pharmacies in {items}.", "Tìm các nhà thuốc đang mở cửa ở {items}."),),
             vary="district",
             slots={"now": const(True, "open now", "đang mở cửa")},
             steps=(Step("find_pharmacy", {"district": "district", "open_now": "now"},
                         {"pharmacy": "found", "address": "address", "closes": "closing"}),),
             tells=(("{pharmacy} at {address} is open until {closes}.", "Nhà thuốc {pharmacy} ở {address} mở cửa đến {closes}."),),
             facts=("pharmacy", "address")),
        Task(asks=(("Is there a 24-hour pharmacy in {district}?", "Ở {district} có nhà thuốc nào mở cửa 24/24 không?"),
                   ("Find me an all-night pharmacy in {district}.", "Tìm giúp tôi nhà thuốc mở xuyên đêm ở {district}.")),
             slots={"always": const(True, "24 hours", "24/24")},
             steps=(Step("find_pharmacy", {"district": "district", "open_24h": "always"},
                         {"pharmacy": "found", "address": "address"}),),
             tells=(("{pharmacy} at {address} is open 24 hours.", "Nhà thuốc {pharmacy} ở {address} mở cửa 24/24."),),
             facts=("pharmacy", "address")),
        Task(asks=(("Does {pharmacy} have {medicine} in stock?", "Nhà thuốc {pharmacy} còn {medicine} không?"),
                   ("Check if {pharmacy} sells {medicine}.", "Kiểm tra giúp tôi xem nhà thuốc {pharmacy} có bán {medicine} không.")),
             many=(("Does {pharmacy} have {items}?", "Kiểm tra giúp tôi xem nhà thuốc {pharmacy} còn {items} không."),),
             vary="medicine",
             steps=(Step("check_medicine_stock", {"medicine": "medicine", "pharmacy": "pharmacy"},
                         {"medicine": "=medicine", "packs_available": "stock", "price_vnd": "price"}),),
             tells=(("{pharmacy} has {packs_available} packs of {medicine} at {price_vnd} VND each.",
                     "Nhà thuốc {pharmacy} còn {packs_available} hộp {medicine}, giá {price_vnd} đồng một hộp."),),
             facts=("packs_available", "price_vnd")),
        Task(asks=(("Reserve {quantity} packs of {medicine} at {pharmacy} for pickup.",
                    "Giữ giúp tôi {quantity} hộp {medicine} ở nhà thuốc {pharmacy}, tôi sẽ qua lấy."),
                   ("Can you hold {quantity} packs of {medicine} for me at {pharmacy}?",
                    "Bạn đặt trước cho tôi {quantity} hộp {medicine} ở {pharmacy} được không?")),
             steps=(Step("reserve_medicine", {"medicine": "medicine", "pharmacy": "pharmacy", "quantity": "quantity"},
                         {"pharmacy": "=pharmacy", "reservation_id": "resv", "pickup_by": "closing"}),),
             tells=(("Reserved at {pharmacy}: code {reservation_id}, pick it up before {pickup_by}.",
                     "Đã giữ hàng ở {pharmacy}, mã {reservation_id}, bạn nhớ lấy trước {pickup_by} nhé."),),
             facts=("reservation_id", "pickup_by")),
        Task(asks=(("Find an open pharmacy in {district} and reserve {quantity} packs of {medicine} there.",
                    "Tìm nhà thuốc đang mở ở {district} rồi giữ cho tôi {quantity} hộp {medicine} ở đó."),
                   ("I need {quantity} packs of {medicine}. Find a pharmacy open now in {district} and hold them for me.",
                    "Tôi cần {quantity} hộp {medicine}, tìm nhà thuốc nào đang mở ở {district} rồi đặt giữ giúp tôi nhé.")),
             slots={"now": const(True, "open now", "đang mở cửa")},
             steps=(Step("find_pharmacy", {"district": "district", "open_now": "now"},
                         {"pharmacy": "found", "address": "address", "closes": "closing"}),
                    Step("reserve_medicine", {"medicine": "medicine", "pharmacy": "@pharmacy", "quantity": "quantity"},
                         {"pharmacy": "=pharmacy", "reservation_id": "resv", "pickup_by": "closing"})),
             tells=(("{quantity} packs of {medicine} are waiting at {pharmacy}; code {reservation_id}.",
                     "{quantity} hộp {medicine} đã được giữ ở nhà thuốc {pharmacy}, mã {reservation_id}."),),
             facts=("pharmacy", "reservation_id")),
    ),
    unserved=(("Deliver {medicine} to my home.", "Giao {medicine} tới nhà cho tôi."),
              ("Pay for my order at {pharmacy} with my health insurance card.",
               "Thanh toán đơn ở nhà thuốc {pharmacy} bằng thẻ bảo hiểm y tế của tôi."),
              ("Order {medicine} from {pharmacy} every month automatically.",
               "Tự động đặt {medicine} ở {pharmacy} hằng tháng cho tôi.")),
)

# --- messaging ------------------------------------------------------------------------------------------------

MESSAGES = words(("I'm running 10 minutes late", "mình đến muộn 10 phút"), ("see you at 7", "hẹn gặp lúc 7 giờ nhé"),
                 ("call me when you're free", "rảnh thì gọi lại cho mình"), ("happy birthday!", "chúc mừng sinh nhật!"),
                 ("dinner is ready", "cơm chín rồi nhé"), ("I've arrived", "mình tới nơi rồi"),
                 ("don't forget your umbrella", "nhớ mang ô nhé"))
INCOMING = same("Mình đến muộn 10 phút nhé", "See you at 7!", "Tối nay ăn gì?", "Call me when you're free",
                "Đã nhận được tiền, cảm ơn nhé", "Are we still on for Saturday?")

MESSAGING = Domain(
    name="messaging",
    tools=(
        tool("send_text_message", "Sends a text message (SMS) to a contact.",
             recipient=string("Contact name."), text=string("The message text.")),
        none_required(tool(
            "read_messages", "Reads the user's received text messages, newest first: from one contact, only unread "
            "ones, or the latest few.", contact=string("Only messages from this contact."),
            unread_only=boolean("Only unread messages."), limit=integer("How many messages.", minimum=1, maximum=20))),
        tool("share_live_location", "Shares the user's live location with a contact for some minutes.",
             recipient=string("Contact name."),
             duration_minutes=integer("How long to share, minutes.", minimum=5, maximum=480)),
    ),
    slots={"person": PEOPLE, "message": MESSAGES, "incoming": INCOMING, "time": times(), "count": ints(2, 9),
           "minutes": ints(15, 120, 15)},
    tasks=(
        Task(asks=(('Send a text to {person}: "{message}".', 'Nhắn tin cho {person}: "{message}".'),
                   ('Send {person} a message saying "{message}".', 'Gửi tin nhắn cho {person} nội dung "{message}".'),
                   ('Can you let {person} know "{message}" by text?', 'Nhắn giúp tôi cho {person} là "{message}" nhé.')),
             many=(('Please send the same text to {items}: "{message}".', 'Nhắn cho {items}: "{message}".'),),
             vary="person",
             steps=(Step("send_text_message", {"recipient": "person", "text": "message"},
                         {"recipient": "=recipient", "sent_at": "time"}),),
             tells=(("Sent to {recipient} at {sent_at}.", "Đã gửi tin nhắn cho {recipient} lúc {sent_at}."),),
             facts=("sent_at",)),
        Task(asks=(("Read me my latest message from {person}.", "Đọc cho tôi tin nhắn mới nhất của {person}."),
                   ("Did {person} send me a text message?", "{person} có nhắn gì cho tôi không?")),
             slots={"one": const(1)},
             steps=(Step("read_messages", {"contact": "person", "limit": "one"},
                         {"contact": "=contact", "latest": "incoming", "received_at": "time"}),),
             tells=(('{contact} wrote at {received_at}: "{latest}"', '{contact} nhắn lúc {received_at}: "{latest}"'),),
             facts=("latest", "received_at")),
        Task(asks=(("Do I have any unread messages?", "Tôi có tin nhắn nào chưa đọc không?"),
                   ("Any new texts?", "Có tin nhắn mới nào không?")),
             slots={"unread": const(True, "unread", "chưa đọc")},
             steps=(Step("read_messages", {"unread_only": "unread"},
                         {"unread_count": "count", "latest_from": "person"}),),
             tells=(("You have {unread_count} unread messages; the latest is from {latest_from}.",
                     "Bạn có {unread_count} tin nhắn chưa đọc, mới nhất là của {latest_from}."),),
             facts=("unread_count", "latest_from")),
        Task(asks=(("Share my location with {person} for {minutes} minutes.",
                    "Chia sẻ vị trí của tôi với {person} trong {minutes} phút."),
                   ("Let {person} follow where I am for the next {minutes} minutes.",
                    "Cho {person} xem vị trí của tôi trong {minutes} phút tới nhé.")),
             steps=(Step("share_live_location", {"recipient": "person", "duration_minutes": "minutes"},
                         {"recipient": "=recipient", "until": "time"}),),
             tells=(("{recipient} can see your location until {until}.", "{recipient} có thể xem vị trí của bạn đến {until}."),),
             facts=("until",)),
        Task(asks=(('Reply "{message}" to whoever texted me last.', 'Trả lời "{message}" cho người vừa nhắn tin cho tôi.'),
                   ('Answer my last text with "{message}".', 'Nhắn lại "{message}" cho tin nhắn gần nhất giúp tôi.')),
             slots={"one": const(1)},
             steps=(Step("read_messages", {"limit": "one"},
                         {"latest_from": "person", "latest": "incoming", "received_at": "time"}),
                    Step("send_text_message", {"recipient": "@latest_from", "text": "message"},
                         {"recipient": "=recipient", "sent_at": "time"})),
             tells=(("Replied to {recipient} at {sent_at}.", "Đã trả lời {recipient} lúc {sent_at}."),),
             facts=("recipient",)),
    ),
    unserved=(("Delete all my messages from {person}.", "Xóa hết tin nhắn của {person}."),
              ("Send {person} a voice message.", "Gửi tin nhắn thoại cho {person}."),
              ("Schedule a text to {person} for tomorrow morning.", "Hẹn giờ gửi tin nhắn cho {person} vào sáng mai.")),
)

# --- contacts -------------------------------------------------------------------------------------------------

CONTACT_NAME = string("The contact's name as saved.")

CONTACTS = Domain(
    name="contacts",
    tools=(
        tool("lookup_contact", "A saved contact's phone number and birthday.", contact_name=CONTACT_NAME),
        tool("save_contact", "Saves a new contact to the phone's address book.", ("contact_name", "phone"),
             contact_name=CONTACT_NAME, phone=string("Phone number, digits only."), birthday=DATE),
        tool("update_contact_phone", "Replaces the phone number of an existing contact.", contact_name=CONTACT_NAME,
             phone=string("The new phone number, digits only.")),
        tool("call_contact", "Starts a phone call to a saved contact.", ("contact_name",), contact_name=CONTACT_NAME,
             speaker=boolean("True to use the loudspeaker.")),
    ),
    slots={"person": PEOPLE, "phone": phones(), "birthday": dates(1992), "cid": digits(4, "C-")},
    tasks=(
        Task(asks=(("What's {person}'s phone number?", "Số điện thoại của {person} là gì?"),
                   ("Look up {person} in my contacts.", "Tìm {person} trong danh bạ giúp tôi.")),
             many=(("Can you get me the phone numbers of {items}, please?", "Cho tôi số điện thoại của {items}."),),
             vary="person",
             steps=(Step("lookup_contact", {"contact_name": "person"},
                         {"contact_name": "=contact_name", "phone": "phone", "birthday": "birthday"}),),
             tells=(("{contact_name}'s number is {phone}.", "Số của {contact_name} là {phone}."),),
             facts=("phone",)),
        Task(asks=(("Please save {person}'s number in my contacts: {phone}.", "Lưu số của {person}: {phone}."),
                   ("Add a new contact {person}, phone {phone}.", "Thêm liên hệ mới tên {person}, số {phone}.")),
             steps=(Step("save_contact", {"contact_name": "person", "phone": "phone"},
                         {"contact_id": "cid", "contact_name": "=contact_name", "phone": "=phone"}),),
             tells=(("Saved {contact_name} with {phone}.", "Đã lưu {contact_name} với số {phone}."),),
             facts=("contact_name", "phone")),
        Task(asks=(("Add {person} to my contacts with number {phone} and birthday {birthday}.",
                    "Thêm {person} vào danh bạ, số {phone}, sinh nhật ngày {birthday}."),
                   ("New contact: {person}, number {phone}, birthday {birthday}. Save it, please.",
                    "Lưu giúp tôi liên hệ mới: {person}, số {phone}, sinh nhật ngày {birthday}.")),
             steps=(Step("save_contact", {"contact_name": "person", "phone": "phone", "birthday": "birthday"},
                         {"contact_id": "cid", "contact_name": "=contact_name", "birthday": "=birthday"}),),
             tells=(("Saved {contact_name}, birthday {birthday}.", "Đã lưu {contact_name}, sinh nhật ngày {birthday}."),),
             facts=("contact_name", "birthday")),
        Task(asks=(("Change {person}'s number to {phone}.", "Đổi số của {person} thành {phone}."),
                   ("{person} has a new phone number, {phone}. Update it, please.",
                    "{person} đổi số mới rồi, là {phone}, cập nhật giúp tôi nhé.")),
             steps=(Step("update_contact_phone", {"contact_name": "person", "phone": "phone"},
                         {"contact_name": "=contact_name", "phone": "=phone"}),),
             tells=(("{contact_name}'s number is now {phone}.", "Số của {contact_name} giờ là {phone}."),),
             facts=("phone",)),
        Task(asks=(("Call {person} for me, please.", "Gọi cho {person}."),
                   ("Give {person} a ring for me, please.", "Gọi điện cho {person} giúp tôi.")),
             steps=(Step("call_contact", {"contact_name": "person"},
                         {"contact_name": "=contact_name", "dialing": "phone"}),),
             tells=(("Calling {contact_name} on {dialing}.", "Đang gọi {contact_name} qua số {dialing}."),),
             facts=("dialing",)),
        Task(asks=(("Call {person} on speaker, please.", "Gọi cho {person}, bật loa ngoài nhé."),
                   ("Put a call through to {person} on speakerphone.", "Gọi {person} bằng loa ngoài giúp tôi.")),
             slots={"loud": const(True, "on speaker", "loa ngoài")},
             steps=(Step("call_contact", {"contact_name": "person", "speaker": "loud"},
                         {"contact_name": "=contact_name", "dialing": "phone"}),),
             tells=(("Calling {contact_name} on speaker.", "Đang gọi {contact_name} bằng loa ngoài."),),
             facts=("contact_name",)),
    ),
    unserved=(("Block {person}'s number on my phone.", "Chặn số của {person}."),
              ("Merge my duplicate contacts for {person}.", "Gộp các liên hệ bị trùng của {person}."),
              ("Export my contacts as a CSV file.", "Xuất danh bạ của tôi ra tệp CSV.")),
)

# --- music ----------------------------------------------------------------------------------------------------

SONGS = same("Hãy Trao Cho Anh", "See Tình", "Nơi Này Có Anh", "Thích Thì Đến", "Waiting For You", "Shape of You",
             "Blinding Lights", "Dynamite", "Bohemian Rhapsody")
ARTISTS = same("Sơn Tùng M-TP", "Hoàng Thùy Linh", "Đen Vâu", "Mỹ Tâm", "Taylor Swift", "BTS", "Adele", "Coldplay")
PLAYLISTS = words(("Chill Vibes", "Chill Vibes"), ("Workout Mix", "Workout Mix"), ("Morning Coffee", "Cà phê sáng"),
                  ("Road Trip", "Đi phượt"), ("Favourites", "Yêu thích"))

MUSIC = Domain(
    name="music",
    tools=(
        tool("play_music", "Plays a song, an artist's songs or one of the user's playlists.", ("query", "kind"),
             query=string("Song title, artist or playlist name."),
             kind=choice("What the query names.", ["song", "artist", "playlist"]),
             shuffle=boolean("True to play in random order.")),
        tool("set_volume", "Sets the playback volume.", level=integer("Volume percent.", minimum=0, maximum=100)),
        tool("get_now_playing", "The title of the song playing now."),
        tool("add_to_playlist", "Adds a song to one of the user's playlists.", song=string("Song title."),
             playlist=string("Playlist name.")),
    ),
    slots={"song": SONGS, "artist": ARTISTS, "playlist": PLAYLISTS, "level": ints(10, 90, 5), "count": ints(12, 80),
           "kind_song": const("song"), "kind_artist": const("artist"), "kind_playlist": const("playlist"),
           "shuffled": const(True, "shuffle", "ngẫu nhiên")},
    tasks=(
        Task(asks=(("Play {song} for me.", "Mở giúp tôi bài hát {song} với."), ("Put on {song}, please.", "Bật bài {song} giúp tôi."),
                   ("I want to hear {song}.", "Tôi muốn nghe bài {song}.")),
             steps=(Step("play_music", {"query": "song", "kind": "kind_song"}, {"now_playing": "=query"}),),
             tells=(("Now playing {now_playing}.", "Đang phát {now_playing}."),), facts=("now_playing",)),
        Task(asks=(("Can you play songs by {artist} on shuffle for me?", "Phát ngẫu nhiên các bài của {artist}."),
                   ("Put some {artist} on shuffle, I'm in the mood.", "Mở nhạc {artist}, phát ngẫu nhiên nhé.")),
             steps=(Step("play_music", {"query": "artist", "kind": "kind_artist", "shuffle": "shuffled"},
                         {"artist": "=query", "tracks": "count"}),),
             tells=(("Shuffling {tracks} songs by {artist}.", "Đang phát ngẫu nhiên {tracks} bài của {artist}."),),
             facts=("tracks",)),
        Task(asks=(("Play my {playlist} playlist.", "Mở danh sách phát {playlist} của tôi."),
                   ("Start the {playlist} playlist.", "Phát danh sách {playlist} của tôi đi.")),
             steps=(Step("play_music", {"query": "playlist", "kind": "kind_playlist"},
                         {"playlist": "=query", "tracks": "count"}),),
             tells=(("Playing {playlist}: {tracks} songs.", "Đang phát danh sách {playlist}, gồm {tracks} bài."),),
             facts=("tracks",)),
        Task(asks=(("Set the volume to {level}%.", "Chỉnh âm lượng về {level}%."),
                   ("Turn the volume to {level} percent.", "Để âm lượng ở mức {level}%.")),
             steps=(Step("set_volume", {"level": "level"}, {"volume": "=level"}),),
             tells=(("Volume is at {volume}%.", "Âm lượng đang ở mức {volume}%."),), facts=("volume",)),
        Task(asks=(("What song is this?", "Bài đang phát là bài gì vậy?"), ("What's playing right now?", "Đang phát bài gì thế?")),
             steps=(Step("get_now_playing", {}, {"title": "song"}),),
             tells=(("This is {title}.", "Đây là bài {title}."),), facts=("title",)),
        Task(asks=(("Add this song to my {playlist} playlist.", "Thêm bài đang phát vào danh sách {playlist} của tôi."),
                   ("I love this one, put it in {playlist}.", "Hay quá, lưu bài đang nghe vào danh sách {playlist} của tôi.")),
             steps=(Step("get_now_playing", {}, {"title": "song"}),
                    Step("add_to_playlist", {"song": "@title", "playlist": "playlist"},
                         {"song": "=song", "playlist": "=playlist", "tracks": "count"})),
             tells=(("Added {song} to {playlist}.", "Đã thêm {song} vào danh sách {playlist}."),), facts=("song",)),
    ),
    unserved=(("Download {song} as an MP3.", "Tải bài {song} về dạng MP3."),
              ("Show me the lyrics of {song}.", "Cho tôi xem lời của bài hát {song}."),
              ("Set the volume to 150%.", "Chỉnh âm lượng lên 150%.")),
)

# --- alarms_timers --------------------------------------------------------------------------------------------

REPEATS = days_of_week(weekdays=("on weekdays", "vào các ngày trong tuần", WEEKDAYS[:5]),
                       weekends=("at weekends", "vào cuối tuần", WEEKDAYS[5:]),
                       mon_wed=("on Mondays and Wednesdays", "vào thứ Hai và thứ Tư", ["mon", "wed"]),
                       daily=("every day", "hằng ngày", WEEKDAYS))

ALARMS = Domain(
    name="alarms_timers",
    tools=(
        tool("set_alarm", "Sets an alarm at a clock time, optionally labelled and repeating on weekdays.", ("time",),
             time=TIME, label=string("Alarm label."),
             repeat_days={"type": "array", "items": {"type": "string", "enum": WEEKDAYS}, "minItems": 1,
                          "uniqueItems": True, "description": "Days the alarm repeats on."}),
        tool("start_timer", "Starts a countdown timer of some minutes.", ("minutes",),
             minutes=integer("Length in minutes.", minimum=1, maximum=180), label=string("What the timer is for.")),
        tool("list_alarms", "The user's alarms: how many, and the next one to ring with its id."),
        tool("delete_alarm", "Deletes an alarm by its id.", alarm_id=string("Alarm id, as list_alarms returns it.")),
    ),
    slots={"time": times(), "label": words(("Gym", "Đi tập"), ("Take medicine", "Uống thuốc"),
                                           ("School run", "Đưa con đi học"), ("Wake up", "Dậy thôi")),
           "days": REPEATS, "minutes": ints(3, 90), "alarm": digits(3, "AL"), "count": ints(1, 6),
           "timer_label": words(("boiling eggs", "luộc trứng"), ("the laundry", "phơi đồ"), ("steeping tea", "pha trà"),
                                ("a nap", "ngủ trưa"))},
    tasks=(
        Task(asks=(("Set an alarm for {time}.", "Đặt báo thức lúc {time}."), ("Wake me up at {time}.", "Gọi tôi dậy lúc {time} nhé."),
                   ("Can you set an alarm at {time}?", "Bạn đặt giúp tôi báo thức {time} được không?")),
             many=(("Set alarms for {items}.", "Đặt báo thức lúc {items}."),),
             vary="time",
             slots={"time": same("05:30", "05:45", "06:00", "06:15", "06:30", "06:45", "07:00", "07:30", "08:00")},
             steps=(Step("set_alarm", {"time": "time"}, {"alarm_id": "alarm", "time": "=time"}),),
             tells=(("Alarm set for {time}.", "Đã đặt báo thức lúc {time}."),), facts=("time",)),
        Task(asks=(('Set an alarm for {time} {days}, labelled "{label}".', 'Đặt báo thức {time} {days}, đặt tên là "{label}".'),
                   ('I need a "{label}" alarm at {time} {days}.', 'Tôi cần một báo thức "{label}" lúc {time} {days}.')),
             steps=(Step("set_alarm", {"time": "time", "label": "label", "repeat_days": "days"},
                         {"alarm_id": "alarm", "time": "=time", "repeats": "=repeat_days"}),),
             tells=(('Alarm "{label}" set for {time} {repeats}.', 'Đã đặt báo thức "{label}" lúc {time} {repeats}.'),),
             facts=("time",)),
        Task(asks=(("Set a timer for {minutes} minutes.", "Hẹn giờ {minutes} phút."),
                   ("Start a {minutes}-minute timer.", "Bấm hẹn giờ {minutes} phút giúp tôi.")),
             many=(("Start timers for {items} minutes.", "Đặt các hẹn giờ {items} phút."),),
             vary="minutes",
             steps=(Step("start_timer", {"minutes": "minutes"}, {"minutes": "=minutes", "ends_at": "time"}),),
             tells=(("Timer set for {minutes} minutes; it ends at {ends_at}.",
                     "Đã hẹn giờ {minutes} phút, kết thúc lúc {ends_at}."),),
             facts=("ends_at",)),
        Task(asks=(("Set a {minutes}-minute timer for {timer_label}.", "Hẹn giờ {minutes} phút để {timer_label}."),
                   ("Time {timer_label} for {minutes} minutes.", "Canh giờ {timer_label} {minutes} phút cho tôi.")),
             steps=(Step("start_timer", {"minutes": "minutes", "label": "timer_label"},
                         {"minutes": "=minutes", "label": "=label", "ends_at": "time"}),),
             tells=(('Timer "{label}" ends at {ends_at}.', 'Hẹn giờ "{label}" sẽ kết thúc lúc {ends_at}.'),),
             facts=("ends_at",)),
        Task(asks=(("What alarms do I have?", "Tôi đang đặt những báo thức nào?"),
                   ("When is my next alarm?", "Báo thức tiếp theo của tôi là lúc mấy giờ?")),
             steps=(Step("list_alarms", {}, {"count": "count", "next_alarm_id": "alarm", "next_alarm": "time"}),),
             tells=(("You have {count} alarms; the next one rings at {next_alarm}.",
                     "Bạn có {count} báo thức, cái gần nhất sẽ reo lúc {next_alarm}."),),
             facts=("next_alarm",)),
        Task(asks=(("Delete my next alarm.", "Xóa báo thức sắp tới của tôi."),
                   ("I'm already up, get rid of the next alarm.", "Tôi dậy rồi, xóa báo thức kế tiếp đi.")),
             steps=(Step("list_alarms", {}, {"count": "count", "next_alarm_id": "alarm", "next_alarm": "time"}),
                    Step("delete_alarm", {"alarm_id": "@next_alarm_id"}, {"deleted_alarm_id": "=alarm_id"})),
             tells=(("Done, alarm {deleted_alarm_id} is deleted.", "Xong, đã xóa báo thức {deleted_alarm_id}."),),
             facts=("deleted_alarm_id",)),
    ),
    unserved=(("Start a stopwatch.", "Bật đồng hồ bấm giờ."),
              ("Set an alarm for {time} New York time.", "Đặt báo thức {time} theo giờ New York."),
              ("Change my alarm sound to birdsong.", "Đổi nhạc chuông báo thức thành tiếng chim hót.")),
)

# --- fitness --------------------------------------------------------------------------------------------------

ACTIVITIES = {"run": ("run", "chạy bộ"), "walk": ("walk", "đi bộ"), "cycle": ("bike ride", "đạp xe"), "swim": ("swim", "bơi"),
              "yoga": ("yoga session", "tập yoga"), "strength": ("gym session", "tập gym")}
PERIODS = {"current": ("current", "hiện tại"), "resting": ("resting", "lúc nghỉ"), "average": ("average daily", "trung bình trong ngày")}

FITNESS = Domain(
    name="fitness",
    tools=(
        tool("log_workout", "Logs a finished workout in the user's fitness diary; returns the calories burned.",
             ("activity", "duration_minutes"), activity=choice("Kind of workout.", ACTIVITIES),
             duration_minutes=integer("Minutes.", minimum=1, maximum=600),
             distance_km=number("Distance in km.", minimum=0), date=DATE),
        tool("get_step_count", "The number of steps the user walked on a date.", date=DATE),
        tool("get_heart_rate", "The user's heart rate from their watch, in beats per minute.",
             period=choice("Which reading.", PERIODS)),
    ),
    slots={"activity": coded(**ACTIVITIES), "minutes": ints(15, 120, 5), "km": amounts(4, 5, 6, 7.5, 8, 10),
           "kcal": ints(80, 900, 10), "date": dates(), "steps": ints(1500, 18000, 100), "period": coded(**PERIODS),
           "bpm": ints(52, 110), "wid": digits(5, "W"), "run": const("run")},
    tasks=(
        Task(asks=(("Log a {minutes}-minute {activity}.", "Ghi lại buổi {activity} {minutes} phút."),
                   ("Add a {activity} of {minutes} minutes to my workout log.",
                    "Thêm buổi {activity} {minutes} phút vào nhật ký tập luyện.")),
             steps=(Step("log_workout", {"activity": "activity", "duration_minutes": "minutes"},
                         {"workout_id": "wid", "calories": "kcal"}),),
             tells=(("Logged your {activity}: about {calories} kcal burned.",
                     "Đã ghi buổi {activity}, bạn tiêu hao khoảng {calories} kcal."),),
             facts=("calories",)),
        Task(asks=(("Log a {km} km run that took {minutes} minutes.", "Ghi lại buổi chạy bộ {km} km trong {minutes} phút."),
                   ("I ran {km} km in {minutes} minutes, save it.", "Tôi vừa chạy {km} km hết {minutes} phút, lưu lại giúp tôi.")),
             slots={"minutes": ints(35, 75, 5)},
             steps=(Step("log_workout", {"activity": "run", "duration_minutes": "minutes", "distance_km": "km"},
                         {"workout_id": "wid", "distance_km": "=distance_km", "calories": "kcal"}),),
             tells=(("Logged {distance_km} km; about {calories} kcal burned.", "Đã ghi {distance_km} km, khoảng {calories} kcal."),),
             facts=("calories",)),
        Task(asks=(("How many steps did I take on {date}?", "Ngày {date} tôi đi được bao nhiêu bước?"),
                   ("What was my step count on {date}?", "Số bước chân của tôi ngày {date} là bao nhiêu?")),
             many=(("Show my step counts for {items}.", "Cho tôi xem số bước chân các ngày {items}."),),
             vary="date",
             steps=(Step("get_step_count", {"date": "date"}, {"date": "=date", "steps": "steps"}),),
             tells=(("You took {steps} steps on {date}.", "Ngày {date} bạn đi được {steps} bước."),), facts=("steps",)),
        Task(asks=(("What's my {period} heart rate?", "Nhịp tim {period} của tôi là bao nhiêu?"),
                   ("Check my {period} heart rate.", "Kiểm tra nhịp tim {period} của tôi.")),
             many=(("Show me my {items} heart rate.", "Cho tôi xem nhịp tim {items} của tôi."),),
             vary="period",
             steps=(Step("get_heart_rate", {"period": "period"}, {"period": "=period", "bpm": "bpm"}),),
             tells=(("Your {period} heart rate is {bpm} bpm.", "Nhịp tim {period} của bạn là {bpm} nhịp/phút."),),
             facts=("bpm",)),
    ),
    unserved=(("Export my workouts to Strava.", "Xuất các buổi tập của tôi sang Strava."),
              ("Measure my blood oxygen level.", "Đo nồng độ oxy trong máu của tôi."),
              ("Show my step count on {date} in miles.", "Cho tôi xem quãng đường ngày {date} tính bằng dặm.")),
)

# --- recipes --------------------------------------------------------------------------------------------------

INGREDIENTS = several(("chicken", "thịt gà"), ("ginger", "gừng"), ("tofu", "đậu phụ"), ("tomatoes", "cà chua"),
                      ("eggs", "trứng"), ("rice noodles", "bún"), ("shrimp", "tôm"), ("lemongrass", "sả"),
                      ("mushrooms", "nấm"), ("pork", "thịt lợn"))
VEG_INGREDIENTS = several(("tofu", "đậu phụ"), ("tomatoes", "cà chua"), ("mushrooms", "nấm"),
                          ("morning glory", "rau muống"), ("eggplant", "cà tím"), ("garlic", "tỏi"))
DISH_NAMES = (("beef pho", "phở bò"), ("caramelized pork with eggs", "thịt kho trứng"),
                      ("sour fish soup", "canh chua cá"), ("fresh spring rolls", "gỏi cuốn"),
                      ("lemongrass chicken", "gà xào sả ớt"), ("banana bread", "bánh chuối nướng"),
                      ("shrimp fried rice", "cơm chiên tôm"))
RECIPE = string("Recipe name.")

RECIPES = Domain(
    name="recipes",
    tools=(
        tool("search_recipes", "Finds a recipe that uses the given ingredients; returns its name and cooking time.",
             ("ingredients",),
             ingredients={"type": "array", "items": {"type": "string"}, "minItems": 1,
                          "description": "Ingredients to cook with."},
             max_minutes=integer("Longest total cooking time, minutes.", minimum=5),
             vegetarian=boolean("Only vegetarian recipes.")),
        tool("get_recipe_details", "Cooking time, calories and ingredient count of a named recipe.", ("recipe",),
             recipe=RECIPE, servings=integer("Number of servings.", minimum=1, maximum=20)),
        tool("save_recipe", "Saves a recipe to the user's favourites.", recipe=RECIPE),
    ),
    slots={"ingredients": INGREDIENTS, "dish": words(*DISH_NAMES), "found": reported(*DISH_NAMES), "mins": ints(15, 120, 5), "kcal": ints(180, 750, 10),
           "servings": ints(2, 8), "n": ints(5, 14), "count": ints(3, 40)},
    tasks=(
        Task(asks=(("What can I cook with {ingredients}?", "Tôi có thể nấu món gì với {ingredients}?"),
                   ("Find a recipe using {ingredients}.", "Tìm công thức nấu ăn có {ingredients}."),
                   ("I've got {ingredients} in the fridge. Any recipe ideas?", "Tủ lạnh còn {ingredients}, nấu món gì được nhỉ?")),
             steps=(Step("search_recipes", {"ingredients": "ingredients"}, {"top_recipe": "found", "total_minutes": "mins"}),),
             tells=(("Try {top_recipe}: it takes about {total_minutes} minutes.",
                     "Bạn thử món {top_recipe} nhé, mất khoảng {total_minutes} phút."),),
             facts=("top_recipe", "total_minutes")),
        Task(asks=(("Find a vegetarian recipe with {ingredients} that takes under {max_minutes} minutes.",
                    "Tìm giúp tôi một món chay có {ingredients}, nấu dưới {max_minutes} phút."),
                   ("Something vegetarian with {ingredients}, ready in {max_minutes} minutes?",
                    "Tôi có {ingredients}, muốn nấu một món chay dưới {max_minutes} phút, gợi ý giúp tôi nhé?")),
             slots={"ingredients": VEG_INGREDIENTS, "max_minutes": ints(30, 60, 15), "quick": ints(10, 25),
                    "veg": const(True, "vegetarian", "chay"),
                    "veg_dish": reported(("tofu in tomato sauce", "đậu phụ sốt cà chua"),
                                      ("stir-fried morning glory with garlic", "rau muống xào tỏi"),
                                      ("mushroom hotpot", "lẩu nấm"), ("braised eggplant", "cà tím kho"))},
             steps=(Step("search_recipes", {"ingredients": "ingredients", "max_minutes": "max_minutes", "vegetarian": "veg"},
                         {"top_recipe": "veg_dish", "total_minutes": "quick"}),),
             tells=(("Try {top_recipe}, ready in {total_minutes} minutes.",
                     "Bạn thử món {top_recipe} nhé, chỉ mất {total_minutes} phút."),),
             facts=("top_recipe", "total_minutes")),
        Task(asks=(("How long does {dish} take to cook?", "Nấu {dish} mất bao lâu?"),
                   ("Tell me about the {dish} recipe.", "Cho tôi biết về công thức {dish}.")),
             many=(("How long do {items} take to cook?", "Nấu {items} mất bao lâu?"),),
             vary="dish",
             steps=(Step("get_recipe_details", {"recipe": "dish"},
                         {"recipe": "=recipe", "total_minutes": "mins", "calories_per_serving": "kcal"}),),
             tells=(("{recipe} takes {total_minutes} minutes, about {calories_per_serving} kcal per serving.",
                     "Món {recipe} mất {total_minutes} phút, khoảng {calories_per_serving} kcal mỗi phần."),),
             facts=("total_minutes", "calories_per_serving")),
        Task(asks=(("Get the recipe for {dish} for {servings} servings.", "Cho tôi công thức {dish} cho {servings} người ăn."),
                   ("I'm cooking {dish} for {servings} people. What do I need?", "Tôi nấu {dish} cho {servings} người, cần những gì?")),
             steps=(Step("get_recipe_details", {"recipe": "dish", "servings": "servings"},
                         {"recipe": "=recipe", "servings": "=servings", "ingredient_count": "n", "total_minutes": "mins"}),),
             tells=(("{recipe} for {servings} needs {ingredient_count} ingredients and {total_minutes} minutes.",
                     "Món {recipe} cho {servings} người cần {ingredient_count} nguyên liệu, nấu trong {total_minutes} phút."),),
             facts=("ingredient_count", "total_minutes")),
        Task(asks=(("Save the {dish} recipe to my favourites.", "Lưu công thức {dish} vào mục yêu thích."),
                   ("Bookmark {dish} for me.", "Lưu món {dish} lại cho tôi.")),
             steps=(Step("save_recipe", {"recipe": "dish"}, {"recipe": "=recipe", "saved_recipes": "count"}),),
             tells=(("Saved {recipe}; you now have {saved_recipes} saved recipes.",
                     "Đã lưu {recipe}, bạn đang có {saved_recipes} công thức đã lưu."),),
             facts=("recipe",)),
        Task(asks=(("Find something to cook with {ingredients} and save it to my favourites.",
                    "Tìm món nấu được với {ingredients} rồi lưu vào mục yêu thích giúp tôi."),
                   ("I have {ingredients}. Find me a recipe and add it to my favourites.",
                    "Tôi có {ingredients}, tìm giúp tôi một công thức rồi lưu vào mục yêu thích nhé.")),
             steps=(Step("search_recipes", {"ingredients": "ingredients"}, {"top_recipe": "found", "total_minutes": "mins"}),
                    Step("save_recipe", {"recipe": "@top_recipe"}, {"recipe": "=recipe", "saved_recipes": "count"})),
             tells=(("Saved {recipe} to your favourites.", "Đã lưu món {recipe} vào mục yêu thích."),), facts=("recipe",)),
    ),
    unserved=(("Order the ingredients for {dish} online.", "Đặt mua nguyên liệu nấu {dish} trên mạng."),
              ("Convert the {dish} recipe to ounces and cups.", "Đổi công thức {dish} sang đơn vị ounce và cup."),
              ("Show me a video of how to make {dish}.", "Mở video hướng dẫn nấu {dish} cho tôi xem.")),
)

# --- restaurants ----------------------------------------------------------------------------------------------

CUISINES = {"vietnamese": ("Vietnamese", "món Việt"), "japanese": ("Japanese", "món Nhật"), "korean": ("Korean", "món Hàn"),
            "italian": ("Italian", "món Ý"), "vegetarian": ("vegetarian", "chay"), "seafood": ("seafood", "hải sản")}
DINING = same("Hương Sen", "Ngon Garden", "Sen Vàng", "The Lantern", "Moonlight Terrace", "Green Table", "Saffron House")
RESTAURANT = string("Restaurant name.")

RESTAURANTS = Domain(
    name="restaurants",
    tools=(
        tool("find_restaurants", "Finds restaurants of a cuisine in a city; returns the best-rated one.",
             city=string("City."), cuisine=choice("Cuisine.", CUISINES)),
        tool("reserve_table", "Reserves a table at a restaurant for a date, time and party size.",
             ("restaurant", "date", "time", "party_size"), restaurant=RESTAURANT, date=DATE, time=TIME,
             party_size=integer("Number of people.", minimum=1, maximum=20), note=string("Request for the restaurant.")),
        tool("cancel_table_reservation", "Cancels a restaurant table reservation by its id.",
             reservation_id=string("Reservation id, e.g. RS12345.")),
    ),
    slots={"city": CITIES, "cuisine": coded(**CUISINES), "restaurant": DINING, "rating": amounts(4.2, 4.4, 4.5, 4.7, 4.9),
           "date": dates(), "time": same("11:30", "12:00", "12:30", "18:00", "18:30", "19:00", "19:30", "20:00"),
           "party": ints(2, 10), "resv": digits(5, "RS"),
           "note": words(("a table by the window", "bàn cạnh cửa sổ"), ("we need a high chair", "cần một ghế ăn cho em bé"),
                         ("a birthday dinner", "tiệc sinh nhật"), ("a quiet corner", "bàn ở góc yên tĩnh")),
           "yes": const(True, "cancelled", "đã hủy")},
    tasks=(
        Task(asks=(("Find a good {cuisine} restaurant in {city}.", "Tìm giúp tôi một nhà hàng {cuisine} ngon ở {city}."),
                   ("Any {cuisine} restaurants you'd recommend in {city}?", "Ở {city} có nhà hàng {cuisine} nào ngon để tôi đến thử không?")),
             many=(("Find the best {cuisine} restaurant in each of {items}.",
                    "Tìm giúp tôi nhà hàng {cuisine} ngon nhất ở từng nơi: {items}."),),
             vary="city",
             steps=(Step("find_restaurants", {"city": "city", "cuisine": "cuisine"},
                         {"city": "=city", "top_restaurant": "restaurant", "rating": "rating"}),),
             tells=(("In {city}, {top_restaurant} is rated {rating}.", "Ở {city}, {top_restaurant} được đánh giá {rating} sao."),),
             facts=("top_restaurant", "rating")),
        Task(asks=(("Book a table for {party} at {restaurant} on {date} at {time}.",
                    "Đặt bàn cho {party} người ở {restaurant} ngày {date} lúc {time}."),
                   ("Could you reserve a table at {restaurant} for {party} people, {date} at {time}?",
                    "Bạn đặt giúp tôi bàn {party} người ở {restaurant} lúc {time} ngày {date} được không?")),
             steps=(Step("reserve_table", {"restaurant": "restaurant", "date": "date", "time": "time", "party_size": "party"},
                         {"reservation_id": "resv", "restaurant": "=restaurant", "time": "=time"}),),
             tells=(("Your table for {party} at {restaurant} is booked for {time} on {date}; reservation {reservation_id}.",
                     "Đã đặt bàn {party} người ở {restaurant} lúc {time} ngày {date}, mã đặt chỗ {reservation_id}."),),
             facts=("reservation_id", "time")),
        Task(asks=(("Reserve a table for {party} at {restaurant} on {date} at {time}, note: {note}.",
                    "Đặt bàn {party} người ở {restaurant} ngày {date} lúc {time}, ghi chú: {note}."),
                   ("Table for {party} at {restaurant}, {date} {time}. Please add: {note}.",
                    "Giữ cho tôi bàn {party} người ở {restaurant} lúc {time} ngày {date}, nhắn nhà hàng: {note}.")),
             steps=(Step("reserve_table", {"restaurant": "restaurant", "date": "date", "time": "time", "party_size": "party",
                                           "note": "note"},
                         {"reservation_id": "resv", "restaurant": "=restaurant", "time": "=time"}),),
             tells=(("Booked {restaurant} at {time} with your note; reservation {reservation_id}.",
                     "Đã đặt {restaurant} lúc {time} kèm ghi chú của bạn, mã đặt chỗ {reservation_id}."),),
             facts=("reservation_id",)),
        Task(asks=(("Cancel my restaurant reservation {resv}.", "Hủy đặt bàn mã {resv} giúp tôi."),
                   ("We can't make it tonight, please cancel table booking {resv}.",
                    "Tối nay chúng tôi không đến được, hủy giúp tôi đặt bàn {resv} nhé.")),
             steps=(Step("cancel_table_reservation", {"reservation_id": "resv"},
                         {"reservation_id": "=reservation_id", "cancelled": "yes"}),),
             tells=(("Reservation {reservation_id} is cancelled.", "Đã hủy đặt bàn {reservation_id}."),),
             facts=("reservation_id",)),
        Task(asks=(("Book a table for {party} at the best {cuisine} restaurant in {city} on {date} at {time}.",
                    "Đặt bàn {party} người ở nhà hàng {cuisine} ngon nhất {city} ngày {date} lúc {time}."),
                   ("Find the top {cuisine} place in {city} and book it for {party} people on {date} at {time}.",
                    "Tìm nhà hàng {cuisine} tốt nhất ở {city} rồi đặt bàn {party} người lúc {time} ngày {date} giúp tôi.")),
             steps=(Step("find_restaurants", {"city": "city", "cuisine": "cuisine"},
                         {"city": "=city", "top_restaurant": "restaurant", "rating": "rating"}),
                    Step("reserve_table", {"restaurant": "@top_restaurant", "date": "date", "time": "time",
                                           "party_size": "party"},
                         {"reservation_id": "resv", "restaurant": "=restaurant", "time": "=time"})),
             tells=(("Booked {restaurant} for {party} at {time} on {date}; reservation {reservation_id}.",
                     "Đã đặt bàn {party} người ở {restaurant} lúc {time} ngày {date}, mã đặt chỗ {reservation_id}."),),
             facts=("restaurant", "reservation_id")),
    ),
    unserved=(("Show me the menu of {restaurant}.", "Cho tôi xem thực đơn của {restaurant}."),
              ("Pay the deposit for my table at {restaurant}.", "Đặt cọc cho bàn của tôi ở {restaurant}."),
              ("Move reservation {resv} to another restaurant.", "Chuyển đặt bàn {resv} sang nhà hàng khác.")),
)

# --- cinema ---------------------------------------------------------------------------------------------------

MOVIES = same("Dune: Part Two", "Inside Out 2", "Mai", "Bố Già", "Hai Phượng", "Oppenheimer", "Spirited Away",
              "Nhà Bà Nữ", "Zootopia 2")
CINEMAS = same("CGV Vincom Bà Triệu", "Lotte Cinema Cantavil", "BHD Star Bitexco", "Galaxy Nguyễn Du",
               "Beta Cinemas Mỹ Đình")
MOVIE = string("Movie title.")

CINEMA = Domain(
    name="cinema",
    tools=(
        tool("list_now_showing", "Movies showing today in a city, with the most popular one.", city=string("City.")),
        tool("get_showtimes", "Showtimes of a movie in a city on a date: the cinema and time of the next showing.",
             movie=MOVIE, city=string("City."), date=DATE),
        tool("buy_movie_tickets", "Buys tickets for given seats at one showing of a movie.",
             movie=MOVIE, cinema=string("Cinema name."), date=DATE, time=TIME,
             seats={"type": "array", "items": {"type": "string", "pattern": r"^[A-Z][0-9]{1,2}$"}, "minItems": 1,
                    "uniqueItems": True, "description": "Seat codes, row letter and number, e.g. F7."}),
    ),
    slots={"movie": MOVIES, "city": CITIES, "date": dates(), "time": times(), "cinema": CINEMAS, "seats": seat_block(),
           "code": digits(6, "MV"), "price": ints(90000, 400000, 10000), "count": ints(6, 18)},
    tasks=(
        Task(asks=(("When is {movie} showing in {city} on {date}?", "Ngày {date} phim {movie} chiếu lúc mấy giờ ở {city}?"),
                   ("Showtimes for {movie} in {city} on {date}, please.", "Cho tôi lịch chiếu phim {movie} ở {city} ngày {date}.")),
             many=(("What are the showtimes for {items} in {city} on {date}?",
                    "Lịch chiếu của các phim {items} ở {city} ngày {date} thế nào?"),),
             vary="movie",
             steps=(Step("get_showtimes", {"movie": "movie", "city": "city", "date": "date"},
                         {"movie": "=movie", "cinema": "cinema", "next_showing": "time"}),),
             tells=(("{movie} is on at {cinema} at {next_showing}.", "Phim {movie} chiếu ở {cinema} lúc {next_showing}."),),
             facts=("cinema", "next_showing")),
        Task(asks=(("Buy tickets for {movie} at {cinema} on {date} at {time}, seats {seats}.",
                    "Mua giúp tôi vé xem phim {movie} ở rạp {cinema} ngày {date}, suất {time}, chọn ghế {seats}."),
                   ("I'd like seats {seats} for the {time} showing of {movie} at {cinema} on {date}.",
                    "Tôi muốn đặt ghế {seats} suất {time} phim {movie} tại {cinema} ngày {date}.")),
             steps=(Step("buy_movie_tickets", {"movie": "movie", "cinema": "cinema", "date": "date", "time": "time",
                                               "seats": "seats"},
                         {"booking_code": "code", "seats": "=seats", "total_vnd": "price"}),),
             tells=(("Booked seats {seats} for {movie}; code {booking_code}, total {total_vnd} VND.",
                     "Đã đặt ghế {seats} phim {movie}, mã vé {booking_code}, tổng {total_vnd} đồng."),),
             facts=("booking_code", "total_vnd")),
        Task(asks=(("What movies are showing in {city} today?", "Hôm nay ở {city} đang chiếu những phim gì?"),
                   ("What's on at the cinemas in {city}?", "Rạp ở {city} đang chiếu phim gì vậy?")),
             steps=(Step("list_now_showing", {"city": "city"}, {"city": "=city", "count": "count", "top_movie": "movie"}),),
             tells=(("{count} movies are showing in {city}; the most popular is {top_movie}.",
                     "Ở {city} đang chiếu {count} phim, phim được xem nhiều nhất là {top_movie}."),),
             facts=("count", "top_movie")),
        Task(asks=(("Get me seats {seats} for the next showing of {movie} in {city} on {date}.",
                    "Đặt cho tôi ghế {seats} suất chiếu gần nhất của phim {movie} ở {city} ngày {date}."),
                   ("Book {seats} for {movie} in {city} on {date}, whichever showing is next.",
                    "Mua vé ghế {seats} phim {movie} ở {city} ngày {date}, suất nào gần nhất cũng được.")),
             steps=(Step("get_showtimes", {"movie": "movie", "city": "city", "date": "date"},
                         {"movie": "=movie", "cinema": "cinema", "next_showing": "time"}),
                    Step("buy_movie_tickets", {"movie": "movie", "cinema": "@cinema", "date": "date",
                                               "time": "@next_showing", "seats": "seats"},
                         {"booking_code": "code", "cinema": "=cinema", "time": "=time", "total_vnd": "price"})),
             tells=(("Booked {seats} at {cinema}, {time}; code {booking_code}.",
                     "Đã đặt ghế {seats} ở {cinema} suất {time}, mã vé {booking_code}."),),
             facts=("cinema", "time", "booking_code")),
    ),
    unserved=(("Play the trailer for {movie}.", "Mở đoạn giới thiệu phim {movie} cho tôi xem."),
              ("Get a refund for my {movie} tickets.", "Tôi muốn được hoàn tiền vé xem phim {movie}."),
              ("Order popcorn to my seat at {cinema}.", "Gọi bắp rang bơ mang tới ghế của tôi ở {cinema}.")),
)

# --- parking --------------------------------------------------------------------------------------------------

PARK_VEHICLES = {"car": ("car", "ô tô"), "motorbike": ("motorbike", "xe máy")}
AREAS = words(("Hoan Kiem Lake", "hồ Hoàn Kiếm"), ("Ben Thanh Market", "chợ Bến Thành"),
              ("Tan Son Nhat Airport", "sân bay Tân Sơn Nhất"), ("My Khe Beach", "biển Mỹ Khê"),
              ("Times City", "Times City"), ("the Opera House", "Nhà hát Lớn"))
LOTS = words(("Vincom parking lot", "bãi xe Vincom"), ("Opera House car park", "bãi đỗ xe Nhà hát Lớn"),
             ("Saigon Centre parking", "bãi xe Saigon Centre"), ("P2 underground car park", "hầm gửi xe P2"),
             ("Riverside parking lot", "bãi xe Bờ Sông"))

PARKING = Domain(
    name="parking",
    tools=(
        tool("find_parking", "Finds a parking lot near a place with free spaces for a vehicle type.",
             ("area", "vehicle"), area=string("Place to park near."), vehicle=choice("Vehicle type.", PARK_VEHICLES),
             covered=boolean("Only covered or underground parking.")),
        tool("start_parking_session", "Starts and pays a street parking session for a plate in a zone.",
             plate=string("Licence plate."), zone=string("Parking zone code."),
             hours=number("Hours to park.", minimum=0.5, maximum=12)),
        tool("get_active_parking", "The user's current parking session: its id, zone and end time."),
        tool("extend_parking", "Adds hours to a running parking session.", session_id=string("Parking session id."),
             extra_hours=number("Hours to add.", minimum=0.5, maximum=12)),
    ),
    slots={"area": AREAS, "vehicle": coded(**PARK_VEHICLES), "lot": LOTS, "free": ints(3, 60),
           "hourly": ints(10000, 40000, 5000), "plate": PLATES, "zone": same("A3", "B12", "C7", "D1", "E5"),
           "hours": amounts(1.5, 2, 2.5, 3, 4), "extra": amounts(1.5, 2, 3), "sess": digits(6, "PK"),
           "time": times(), "cost": ints(15000, 120000, 5000), "covered": const(True, "covered", "có mái che")},
    tasks=(
        Task(asks=(("Find parking for my {vehicle} near {area}.", "Tìm chỗ gửi {vehicle} gần {area}."),
                   ("Where can I park a {vehicle} near {area}?", "Gần {area} có chỗ nào gửi {vehicle} không?")),
             many=(("Find {vehicle} parking near {items}.", "Tìm chỗ gửi {vehicle} gần {items}."),),
             vary="area",
             steps=(Step("find_parking", {"area": "area", "vehicle": "vehicle"},
                         {"lot": "lot", "free_spaces": "free", "price_per_hour_vnd": "hourly"}),),
             tells=(("{lot} has {free_spaces} free spaces at {price_per_hour_vnd} VND an hour.",
                     "{lot} còn {free_spaces} chỗ trống, giá {price_per_hour_vnd} đồng một giờ."),),
             facts=("lot", "free_spaces")),
        Task(asks=(("I need covered parking for my {vehicle} near {area}.", "Tôi cần chỗ gửi {vehicle} có mái che gần {area}."),
                   ("It's going to rain. Find an indoor spot for my {vehicle} near {area}.",
                    "Trời sắp mưa, tìm giúp tôi chỗ gửi {vehicle} trong nhà gần {area}.")),
             steps=(Step("find_parking", {"area": "area", "vehicle": "vehicle", "covered": "covered"},
                         {"lot": "lot", "free_spaces": "free", "price_per_hour_vnd": "hourly"}),),
             tells=(("{lot} is covered and has {free_spaces} free spaces.", "{lot} có mái che, còn {free_spaces} chỗ trống."),),
             facts=("lot",)),
        Task(asks=(("Start parking for {plate} in zone {zone} for {hours} hours.",
                    "Bắt đầu gửi xe biển số {plate} ở khu {zone} trong {hours} giờ."),
                   ("Pay for {hours} hours of parking in zone {zone}, plate {plate}.",
                    "Thanh toán {hours} giờ đỗ xe ở khu {zone}, biển số {plate}.")),
             steps=(Step("start_parking_session", {"plate": "plate", "zone": "zone", "hours": "hours"},
                         {"session_id": "sess", "ends_at": "time", "cost_vnd": "cost"}),),
             tells=(("Parking is paid until {ends_at}; it cost {cost_vnd} VND.",
                     "Đã thanh toán đỗ xe đến {ends_at}, hết {cost_vnd} đồng."),),
             facts=("ends_at", "cost_vnd")),
        Task(asks=(("When does my parking run out?", "Lượt đỗ xe của tôi hết hạn lúc mấy giờ?"),
                   ("How long do I have left on my parking?", "Tôi còn được đỗ xe đến mấy giờ?")),
             steps=(Step("get_active_parking", {}, {"session_id": "sess", "zone": "zone", "ends_at": "time"}),),
             tells=(("Your parking in zone {zone} ends at {ends_at}.", "Lượt đỗ xe ở khu {zone} của bạn hết hạn lúc {ends_at}."),),
             facts=("ends_at",)),
        Task(asks=(("Extend my parking by {extra} hours.", "Gia hạn đỗ xe thêm {extra} giờ."),
                   ("My meeting's running over, add {extra} hours to my parking.",
                    "Cuộc họp kéo dài quá, thêm {extra} giờ đỗ xe giúp tôi.")),
             steps=(Step("get_active_parking", {}, {"session_id": "sess", "zone": "zone", "ends_at": "time"}),
                    Step("extend_parking", {"session_id": "@session_id", "extra_hours": "extra"},
                         {"session_id": "=session_id", "ends_at": "time", "extra_cost_vnd": "cost"})),
             tells=(("Extended: your parking now ends at {ends_at}, {extra_cost_vnd} VND more.",
                     "Đã gia hạn, giờ đỗ xe kết thúc lúc {ends_at}, trả thêm {extra_cost_vnd} đồng."),),
             facts=("ends_at", "extra_cost_vnd")),
    ),
    unserved=(("Reserve a parking spot near {area} for all of next month.",
               "Đặt trước chỗ đỗ xe gần {area} cho cả tháng sau."),
              ("Pay my parking fine for {plate}.", "Nộp phạt đỗ xe sai chỗ cho xe biển số {plate}."),
              ("Find an electric car charger near {area}.", "Tìm trạm sạc xe điện gần {area}.")),
)

# --- public_transit -------------------------------------------------------------------------------------------

STOP_NAMES = (("Ben Thanh station", "ga Bến Thành"), ("Opera House station", "ga Nhà hát Thành phố"),
              ("Cat Linh station", "ga Cát Linh"), ("Cau Giay bus stop", "điểm dừng Cầu Giấy"),
              ("Long Bien bus hub", "điểm trung chuyển Long Biên"), ("Suoi Tien station", "ga Suối Tiên"))
LINE_NAMES = (("Metro Line 1", "metro số 1"), ("Metro Line 2A", "metro 2A"), ("bus 32", "xe buýt 32"),
              ("bus 86", "xe buýt 86"), ("bus 09", "xe buýt 09"))
TRIP_FROM = words(("Hoan Kiem Lake", "hồ Hoàn Kiếm"), ("Ben Thanh Market", "chợ Bến Thành"),
                  ("Vietnam National University", "Đại học Quốc gia"), ("Thu Duc", "Thủ Đức"))
TRIP_TO = words(("Noi Bai Airport", "sân bay Nội Bài"), ("the Temple of Literature", "Văn Miếu"),
                ("Landmark 81", "Landmark 81"), ("Suoi Tien Park", "công viên Suối Tiên"), ("West Lake", "Hồ Tây"))
MODES = {"bus": ("bus", "xe buýt"), "metro": ("metro", "metro")}
LINE = string("Line name, e.g. bus 32 or Metro Line 1.")
ROUTE_RESULT = {"first_line": "found_line", "board_at": "found_stop", "duration_minutes": "trip"}

TRANSIT = Domain(
    name="public_transit",
    tools=(
        tool("get_next_departures", "The next bus or metro departure from a stop, optionally of one line.", ("stop",),
             stop=string("Stop or station name."), line=LINE),
        tool("plan_transit_route", "Plans a public transport trip between two places: first line, where to board, "
             "trip time.", ("origin", "destination"), origin=string("Start place."),
             destination=string("End place."), depart_at=TIME, mode=choice("Only this mode of transport.", MODES)),
        tool("get_service_alerts", "Delays and diversions on a bus or metro line.", line=LINE),
    ),
    slots={"stop": words(*STOP_NAMES), "line": words(*LINE_NAMES), "found_stop": reported(*STOP_NAMES),
           "found_line": reported(*LINE_NAMES), "mins": ints(1, 20), "time": times(), "origin": TRIP_FROM,
           "destination": TRIP_TO, "trip": ints(18, 75), "mode": coded(**MODES),
           "status": words(("running normally", "hoạt động bình thường"), ("running about 10 minutes late", "chậm khoảng 10 phút"),
                           ("on a diversion", "chạy đường vòng"))},
    tasks=(
        Task(asks=(("When's the next departure from {stop}?", "Chuyến tiếp theo ở {stop} là lúc nào?"),
                   ("What leaves {stop} next?", "Ở {stop} sắp có chuyến nào chạy?")),
             many=(("What are the next departures from {items}?", "Ở {items}, chuyến tiếp theo sẽ chạy lúc mấy giờ?"),),
             vary="stop",
             steps=(Step("get_next_departures", {"stop": "stop"}, {"stop": "=stop", "line": "line", "minutes": "mins"}),),
             tells=(("{line} leaves {stop} in {minutes} minutes.", "{line} rời {stop} sau {minutes} phút nữa."),),
             facts=("line", "minutes")),
        Task(asks=(("When does the next {line} leave {stop}?", "Chuyến {line} tiếp theo rời {stop} lúc mấy giờ?"),
                   ("I'm at {stop}. How long until the next {line}?", "Tôi đang ở {stop}, bao lâu nữa có chuyến {line}?")),
             steps=(Step("get_next_departures", {"stop": "stop", "line": "line"},
                         {"line": "=line", "departs_at": "time", "minutes": "mins"}),),
             tells=(("The next {line} leaves at {departs_at}, in {minutes} minutes.",
                     "Chuyến {line} tiếp theo chạy lúc {departs_at}, {minutes} phút nữa."),),
             facts=("departs_at", "minutes")),
        Task(asks=(("How do I get from {origin} to {destination} by public transport?",
                    "Đi từ {origin} đến {destination} bằng phương tiện công cộng thế nào?"),
                   ("What's the best way to take transit from {origin} to {destination}?",
                    "Từ {origin} muốn đến {destination} thì đi xe buýt hay metro nào?")),
             steps=(Step("plan_transit_route", {"origin": "origin", "destination": "destination"}, ROUTE_RESULT),),
             tells=(("Take {first_line} from {board_at}; the trip takes about {duration_minutes} minutes.",
                     "Bạn đi {first_line} từ {board_at}, mất khoảng {duration_minutes} phút."),),
             facts=("first_line", "board_at", "duration_minutes")),
        Task(asks=(("Plan a {mode} route from {origin} to {destination}, leaving at {time}.",
                    "Tìm lộ trình đi {mode} từ {origin} đến {destination}, khởi hành lúc {time}."),
                   ("I want to leave {origin} at {time} for {destination}, {mode} only.",
                    "Tôi muốn rời {origin} lúc {time} để đến {destination}, chỉ đi {mode} thôi.")),
             steps=(Step("plan_transit_route", {"origin": "origin", "destination": "destination", "depart_at": "time",
                                                "mode": "mode"}, ROUTE_RESULT),),
             tells=(("Leaving at {time}, take {first_line} from {board_at}: about {duration_minutes} minutes.",
                     "Xuất phát lúc {time}, bạn đi {first_line} từ {board_at}, mất khoảng {duration_minutes} phút."),),
             facts=("first_line", "duration_minutes")),
        Task(asks=(("Are there any delays on {line}?", "{line} có bị chậm chuyến không?"),
                   ("Is {line} running normally today?", "Hôm nay {line} có chạy bình thường không?")),
             many=(("Any delays on {items} right now?", "Hiện giờ {items} có bị chậm không?"),),
             vary="line",
             steps=(Step("get_service_alerts", {"line": "line"}, {"line": "=line", "status": "status"}),),
             tells=(("{line} is {status}.", "{line} đang {status}."),), facts=("status",)),
        Task(asks=(("Find me a route from {origin} to {destination} and tell me when the first ride leaves.",
                    "Tìm lộ trình từ {origin} đến {destination} và cho tôi biết khi nào chuyến đầu tiên chạy."),
                   ("How do I get from {origin} to {destination}, and when does the first bus or train leave?",
                    "Từ {origin} đến {destination} đi thế nào, và bao giờ có chuyến đầu tiên?")),
             steps=(Step("plan_transit_route", {"origin": "origin", "destination": "destination"}, ROUTE_RESULT),
                    Step("get_next_departures", {"stop": "@board_at", "line": "@first_line"},
                         {"line": "=line", "stop": "=stop", "departs_at": "time", "minutes": "mins"})),
             tells=(("Take {line} from {stop}; the next one leaves at {departs_at}, in {minutes} minutes.",
                     "Bạn đi {line} từ {stop}, chuyến tiếp theo chạy lúc {departs_at}, {minutes} phút nữa."),),
             facts=("line", "departs_at")),
    ),
    unserved=(("Top up my metro card with 100000 VND.", "Nạp 100000 đồng vào thẻ metro của tôi."),
              ("Buy me a monthly pass for {line}.", "Mua giúp tôi một vé tháng đi {line}."),
              ("Is there wheelchair access at {stop}?", "{stop} có lối đi cho xe lăn không?")),
)

# --- pets -----------------------------------------------------------------------------------------------------

VISITS = {"vaccination": ("vaccinations", "tiêm phòng"), "checkup": ("a check-up", "khám tổng quát"),
          "dental": ("a dental cleaning", "vệ sinh răng"), "sick": ("a sick visit", "khám bệnh")}
GRAMS = integer("Grams per portion.", minimum=5, maximum=200)

PETS = Domain(
    name="pets",
    tools=(
        tool("book_vet_visit", "Books a pet's visit at the vet clinic.", pet_name=string("The pet's name."),
             reason=choice("Reason for the visit.", VISITS), date=DATE, time=TIME),
        tool("set_feeding_schedule", "Sets the daily times and portion of the smart pet feeder.",
             times={"type": "array", "items": TIME, "minItems": 1, "maxItems": 6,
                    "description": "Feeding times each day, HH:MM."},
             portion_grams=GRAMS),
        tool("dispense_food", "Makes the smart pet feeder serve a portion now.", portion_grams=GRAMS),
        tool("get_feeder_status", "The smart pet feeder's last feeding time and portion, and how full it is."),
    ),
    slots={"pet": same("Milo", "Bông", "Mực", "Luna", "Vàng", "Max", "Kem"), "reason": coded(**VISITS),
           "date": dates(), "time": times(), "visit": digits(5, "VT"),
           "clinic": words(("Happy Paws Vet Clinic", "Phòng khám thú y Happy Paws"),
                           ("Saigon Pet Hospital", "Bệnh viện thú y Sài Gòn"), ("An Phu Vet", "Thú y An Phú")),
           "feed_times": codes_list("06:30", "07:00", "08:00", "12:00", "12:30", "17:30", "18:00", "19:00", "21:00"),
           "grams": ints(20, 120, 5), "pct": ints(5, 95, 5)},
    tasks=(
        Task(asks=(("Book a vet appointment for {pet} on {date} at {time} for {reason}.",
                    "Đặt lịch khám thú y cho {pet} ngày {date} lúc {time} để {reason}."),
                   ("{pet} needs {reason}. Can you book the vet for {date} at {time}?",
                    "{pet} cần đi {reason}, bạn đặt lịch thú y ngày {date} lúc {time} giúp tôi nhé?")),
             many=(("Book vet appointments for {items} on {date} at {time} for {reason}.",
                    "Đặt lịch thú y cho {items} ngày {date} lúc {time} để {reason}."),),
             vary="pet",
             steps=(Step("book_vet_visit", {"pet_name": "pet", "reason": "reason", "date": "date", "time": "time"},
                         {"visit_id": "visit", "pet_name": "=pet_name", "clinic": "clinic"}),),
             tells=(("{pet_name} is booked at {clinic} on {date} at {time}.",
                     "Đã đặt lịch cho {pet_name} ở {clinic} ngày {date} lúc {time}."),),
             facts=("clinic",)),
        Task(asks=(("Set the feeder to feed {pet} at {feed_times}, {grams} grams each time.",
                    "Cài máy cho {pet} ăn lúc {feed_times}, mỗi lần {grams} gam."),
                   ("Program {pet}'s feeder: {grams} g at {feed_times}.",
                    "Hẹn giờ máy cho ăn của {pet}: {feed_times}, mỗi bữa {grams} gam.")),
             steps=(Step("set_feeding_schedule", {"times": "feed_times", "portion_grams": "grams"},
                         {"feeding_times": "=times", "portion_grams": "=portion_grams"}),),
             tells=(("The feeder will serve {portion_grams} g at {feeding_times}.",
                     "Máy sẽ cho ăn {portion_grams} gam vào lúc {feeding_times}."),),
             facts=("portion_grams",)),
        Task(asks=(("Feed {pet} {grams} grams from the feeder now.", "Cho {pet} ăn {grams} gam ngay bây giờ."),
                   ("{pet} is hungry, give them {grams} g from the feeder.", "{pet} đói rồi, cho ăn {grams} gam từ máy nhé.")),
             steps=(Step("dispense_food", {"portion_grams": "grams"},
                         {"dispensed_grams": "=portion_grams", "food_left_percent": "pct"}),),
             tells=(("Dispensed {dispensed_grams} g; the feeder is {food_left_percent}% full.",
                     "Đã nhả {dispensed_grams} gam, máy còn {food_left_percent}% thức ăn."),),
             facts=("food_left_percent",)),
        Task(asks=(("When was {pet} last fed?", "{pet} được cho ăn lần cuối lúc nào?"),
                   ("Has {pet} eaten yet? Check the feeder.", "{pet} đã ăn chưa? Kiểm tra máy cho ăn giúp tôi.")),
             steps=(Step("get_feeder_status", {},
                         {"last_fed_at": "time", "last_portion_grams": "grams", "food_left_percent": "pct"}),),
             tells=(("{pet} was last fed at {last_fed_at}; the feeder is {food_left_percent}% full.",
                     "{pet} được cho ăn lần cuối lúc {last_fed_at}, máy còn {food_left_percent}% thức ăn."),),
             facts=("last_fed_at", "food_left_percent")),
        Task(asks=(("Feed {pet} the same portion as last time.", "Cho {pet} ăn một phần giống lần trước."),
                   ("Give {pet} another meal, same size as the last one.", "Cho {pet} ăn thêm một bữa, lượng như bữa trước.")),
             steps=(Step("get_feeder_status", {},
                         {"last_fed_at": "time", "last_portion_grams": "grams", "food_left_percent": "pct"}),
                    Step("dispense_food", {"portion_grams": "@last_portion_grams"},
                         {"dispensed_grams": "=portion_grams", "food_left_percent": "pct"})),
             tells=(("Gave {pet} {dispensed_grams} g again; {food_left_percent}% food left.",
                     "Đã cho {pet} ăn thêm {dispensed_grams} gam, máy còn {food_left_percent}% thức ăn."),),
             facts=("dispensed_grams",)),
    ),
    unserved=(("Show me a live video of {pet} from the feeder camera.", "Cho tôi xem video trực tiếp của {pet} từ camera máy cho ăn."),
              ("Order a new bag of food for {pet}.", "Đặt mua thêm một bao thức ăn cho {pet}."),
              ("Set the feeder portion in cups instead of grams.", "Đổi khẩu phần của máy cho ăn sang đơn vị cốc thay vì gam.")),
)

DAILY = (FLIGHTS, HOTELS, RIDES, FOOD, BANKING, HEALTH, PHARMACY, MESSAGING, CONTACTS, MUSIC, ALARMS, FITNESS, RECIPES,
         RESTAURANTS, CINEMA, PARKING, TRANSIT, PETS)

register(*DAILY)
