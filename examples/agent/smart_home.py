"""Smart home tools on a SQLite database of devices; unlocking a door needs the user's yes.

    edgefc agent --tools examples/agent/smart_home.py --once "Turn off the living room lights"
    edgefc agent --tools examples/agent/smart_home.py --once "Tắt đèn phòng khách"
    edgefc agent --tools examples/agent/smart_home.py --once "Set the bedroom thermostat to 21 degrees"
    edgefc agent --tools examples/agent/smart_home.py "Unlock the front door"   # asks y/n before it runs

The database is created on first use at $HOME_DB (default: home.sqlite in the system's temp folder).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Literal

from edgefc.agent import needs_confirmation

DB = Path(os.environ.get("HOME_DB", Path(tempfile.gettempdir()) / "edgefc-examples" / "home.sqlite"))
Room = Literal["living_room", "bedroom", "kitchen", "entrance"]

_DEVICES = [("living_room_lights", "living_room", "light", "on"), ("bedroom_lights", "bedroom", "light", "off"),
            ("kitchen_lights", "kitchen", "light", "off"), ("bedroom_thermostat", "bedroom", "thermostat", "19"),
            ("front_door", "entrance", "lock", "locked")]

SYSTEM = ("You are a smart home assistant. Use the tools to read and change the devices. When the tool responses "
          "show the result, tell the user in one sentence, in the user's language.")


def _db() -> sqlite3.Connection:
    """The home database, created with its devices on first use."""
    DB.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(DB)
    con.execute("CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, room TEXT, kind TEXT, state TEXT)")
    con.executemany("INSERT OR IGNORE INTO devices VALUES (?, ?, ?, ?)", _DEVICES)
    con.commit()
    return con


def list_devices(room: Room) -> list:
    """The devices in a room and their current state.

    Args:
        room: The room to list.
    """
    with _db() as con:
        rows = con.execute("SELECT id, kind, state FROM devices WHERE room = ?", (room,)).fetchall()
    return [{"device": d, "kind": k, "state": s} for d, k, s in rows]


def set_light(room: Room, on: bool) -> dict:
    """Switch the lights of a room on or off.

    Args:
        room: The room whose lights to switch.
        on: True to switch on, false to switch off.
    """
    with _db() as con:
        changed = con.execute("UPDATE devices SET state = ? WHERE room = ? AND kind = 'light'",
                              ("on" if on else "off", room)).rowcount
    if not changed:
        raise LookupError(f"there are no lights in {room}")
    return {"room": room, "lights": "on" if on else "off"}


def set_thermostat(room: Room, celsius: float) -> dict:
    """Set a room's thermostat.

    Args:
        room: The room whose thermostat to set.
        celsius: Target temperature in degrees Celsius, 10 to 30.
    """
    if not 10 <= celsius <= 30:
        raise ValueError("the thermostat takes 10 to 30 degrees Celsius")
    with _db() as con:
        changed = con.execute("UPDATE devices SET state = ? WHERE room = ? AND kind = 'thermostat'",
                              (f"{celsius:g}", room)).rowcount
    if not changed:
        raise LookupError(f"there is no thermostat in {room}")
    return {"room": room, "thermostat_celsius": celsius}


@needs_confirmation
def unlock_door(door: Literal["front_door"]) -> dict:
    """Unlock a door. The user is asked to confirm before it runs.

    Args:
        door: The door to unlock.
    """
    with _db() as con:
        con.execute("UPDATE devices SET state = 'unlocked' WHERE id = ?", (door,))
    return {"door": door, "state": "unlocked"}


TOOLS = [list_devices, set_light, set_thermostat, unlock_door]
