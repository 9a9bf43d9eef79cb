"""Customer service tools on a real SQLite database: orders, support tickets and FAQ answers.

    edgefc agent --tools examples/agent/customer_service.py --once "Where is order 12345?"
    edgefc agent --tools examples/agent/customer_service.py --once "Đơn hàng 12345 của tôi đang ở đâu?"
    edgefc agent --tools examples/agent/customer_service.py --once "My order 777 arrived broken, please open a ticket."
    edgefc agent --tools examples/agent/customer_service.py --once "Chính sách đổi trả thế nào?"

The database is created on first use at $SHOP_DB (default: shop.sqlite in the system's temp folder) with a
few orders and FAQ entries; tickets the agent opens are written to it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

DB = Path(os.environ.get("SHOP_DB", Path(tempfile.gettempdir()) / "edgefc-examples" / "shop.sqlite"))

_ORDERS = [("12345", "Lan Nguyen", "shipped", "2026-11-27", "DHL 4471-2290", "Wireless earbuds"),
           ("777", "Minh Tran", "delivered", "2026-11-20", "VNPost EB1234VN", "Ceramic teapot"),
           ("4242", "Alex Kim", "processing", None, None, "Standing desk")]
_FAQ = [("returns", "Items can be returned within 30 days of delivery in their original packaging; refunds take "
                    "5-7 business days."),
        ("shipping", "Standard shipping takes 3-5 business days; express takes 1-2 business days."),
        ("warranty", "Electronics carry a 12-month warranty covering manufacturing defects.")]

SYSTEM = ("You are the customer service assistant of an online shop. Use the tools to look up orders, open "
          "tickets and answer common questions. When the tool responses contain the answer, reply to the customer "
          "in one or two sentences, in the customer's language.")


def _db() -> sqlite3.Connection:
    """The shop database, created with its sample rows on first use."""
    DB.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(DB)
    con.executescript("""
        CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, customer TEXT, status TEXT, shipped_on TEXT,
                                           tracking TEXT, item TEXT);
        CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT, issue TEXT,
                                            priority TEXT, status TEXT DEFAULT 'open');
        CREATE TABLE IF NOT EXISTS faq (topic TEXT PRIMARY KEY, answer TEXT);""")
    con.executemany("INSERT OR IGNORE INTO orders VALUES (?, ?, ?, ?, ?, ?)", _ORDERS)
    con.executemany("INSERT OR IGNORE INTO faq VALUES (?, ?)", _FAQ)
    con.commit()
    return con


def lookup_order(order_id: str) -> dict:
    """Look up an order's status, item, shipping date and tracking number.

    Args:
        order_id: The order number, digits only, e.g. "12345".
    """
    with _db() as con:
        row = con.execute("SELECT id, customer, status, shipped_on, tracking, item FROM orders WHERE id = ?",
                          (order_id.strip().lstrip("#"),)).fetchone()
    if row is None:
        raise LookupError(f"no order with number {order_id}")
    return dict(zip(("order_id", "customer", "status", "shipped_on", "tracking", "item"), row))


def create_ticket(order_id: str, issue: str, priority: str = "normal") -> dict:
    """Open a support ticket about an order (damaged item, missing parcel, wrong item...).

    Args:
        order_id: The order number the ticket is about.
        issue: What went wrong, in the customer's words.
        priority: "low", "normal" or "high".
    """
    with _db() as con:
        if con.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
            raise LookupError(f"no order with number {order_id}")
        cursor = con.execute("INSERT INTO tickets (order_id, issue, priority) VALUES (?, ?, ?)",
                             (order_id, issue, priority))
    return {"ticket_id": cursor.lastrowid, "order_id": order_id, "status": "open", "priority": priority}


def get_faq(topic: str) -> str:
    """The shop's answer to a common question.

    Args:
        topic: One of "returns", "shipping" or "warranty".
    """
    with _db() as con:
        row = con.execute("SELECT answer FROM faq WHERE topic = ?", (topic.lower(),)).fetchone()
    if row is None:
        raise LookupError(f"no FAQ entry about {topic!r}; topics: returns, shipping, warranty")
    return row[0]


TOOLS = [lookup_order, create_ticket, get_faq]
