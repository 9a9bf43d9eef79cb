"""edgefc.protocol.facts: whether an answer states a fact, blind to case and Vietnamese diacritics."""

from __future__ import annotations

from edgefc.protocol.facts import fold, stated_share, states


def test_fold() -> None:
    assert fold("Hà Nội") == "ha noi" == fold("HÀ   NỘI")
    assert fold("Đà Nẵng") == "da nang" and fold("đường") == "duong"
    assert fold("Thành phố Hồ Chí Minh") == "thanh pho ho chi minh"


def test_states() -> None:
    assert states("Your order ships with DHL on 2026-12-01.", ["dhl"])
    assert states("Đơn hàng đang giao tại ha noi", ["Hà Nội", "Hanoi"])
    assert not states("It is sunny.", ["rain", "mưa"])
    assert not states("anything", [""])  # an empty spelling states nothing
    assert stated_share("31 độ, trời nắng", [["31"], ["sunny", "nắng"], ["humid"]]) == 2 / 3
    assert stated_share("no facts due", []) == 1.0
    assert not states("on 2026-02-04", ["0"]) and not states("300 m", ["30"]) and not states("2.5 kg", ["5"])
    assert states("it costs 1.5 USD", ["1.5"]) and states("order 0 of 3", ["0"])
