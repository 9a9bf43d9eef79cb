"""A notes MCP server (stdio) written with the `mcp` SDK: notes with tags, kept in SQLite.

    edgefc agent --mcp examples/mcp/mcp.json --once "Note that the wifi password is hunter2, tag it home."
    edgefc agent --mcp examples/mcp/mcp.json --once "Ghi chú: họp nhóm lúc 9 giờ sáng thứ Hai, gắn thẻ work."
    edgefc agent --mcp examples/mcp/mcp.json --once "What did I note about the wifi?"
    edgefc agent --mcp examples/mcp/mcp.json --once "Tôi có ghi chú nào về họp nhóm không?"
    edgefc agent --mcp-command "python examples/mcp/notes_server.py" --once "List my notes tagged work."

The database lives at $NOTES_DB, or the path given as the first argument, or notes.sqlite in the system's temp
folder; it starts with two sample notes. `delete_note` is marked destructive, so edgefc asks before it runs.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from pathlib import Path

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

_SAMPLES = [("Dentist", "Dentist appointment on Friday at 15:00, Dr. Pham, 12 Ly Thuong Kiet.", "health"),
            ("Groceries", "Buy rice, fish sauce, eggs and green tea.", "shopping")]

server = MCPServer("notes", instructions="Personal notes with tags: add, search, read, list and delete them.",
                   log_level="WARNING")


def _db_path() -> Path:
    """Where the notes live: $NOTES_DB, the first argument, or the temp folder."""
    given = os.environ.get("NOTES_DB") or (sys.argv[1] if len(sys.argv) > 1 else None)
    return Path(given) if given else Path(tempfile.gettempdir()) / "edgefc-examples" / "notes.sqlite"


def _db() -> sqlite3.Connection:
    """The notes database, created with its sample notes on first use."""
    path = _db_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    fresh = not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'notes'").fetchone()
    con.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, "
                "body TEXT NOT NULL, tag TEXT NOT NULL DEFAULT '', created TEXT DEFAULT CURRENT_TIMESTAMP)")
    if fresh:
        con.executemany("INSERT INTO notes (title, body, tag) VALUES (?, ?, ?)", _SAMPLES)
    con.commit()
    return con


def _note(row: sqlite3.Row) -> dict[str, object]:
    return {"id": row["id"], "title": row["title"], "body": row["body"], "tag": row["tag"], "created": row["created"]}


@server.tool()
def add_note(title: Annotated[str, Field(description="A short title, a few words.")],
             body: Annotated[str, Field(description="The full text of the note.")],
             tag: Annotated[str, Field(description='One lowercase word to group notes, e.g. "work" or "home"; '
                                                   "empty for none.")] = "") -> dict[str, object]:
    """Save a new note and return it with its id."""
    with _db() as con:
        cursor = con.execute("INSERT INTO notes (title, body, tag) VALUES (?, ?, ?)",
                             (title.strip(), body.strip(), tag.strip().lower()))
        return _note(con.execute("SELECT * FROM notes WHERE id = ?", (cursor.lastrowid,)).fetchone())


@server.tool()
def search_notes(query: Annotated[str, Field(description='Words to look for, e.g. "wifi password".')]
                 ) -> dict[str, object]:
    """Find notes whose title, text or tag contains all the query words (case-insensitive)."""
    words = query.lower().split()
    with _db() as con:
        rows = con.execute("SELECT * FROM notes ORDER BY id").fetchall()
    found = [_note(r) for r in rows if all(w in f"{r['title']} {r['body']} {r['tag']}".lower() for w in words)]
    return {"query": query, "count": len(found), "notes": found}


@server.tool()
def get_note(note_id: Annotated[int, Field(description="The note's number, from add_note, search_notes or "
                                                       "list_notes.")]) -> dict[str, object]:
    """Read one whole note by its number."""
    with _db() as con:
        row = con.execute("SELECT * FROM notes WHERE id = ?", (note_id,)).fetchone()
    if row is None:
        raise ToolError(f"there is no note {note_id}; use search_notes or list_notes to find its id")
    return _note(row)


@server.tool()
def list_notes(tag: Annotated[str, Field(description="Only notes with this tag; empty for all notes.")] = ""
               ) -> dict[str, object]:
    """List the numbers and titles of the notes, newest first."""
    with _db() as con:
        rows = con.execute("SELECT * FROM notes WHERE ? = '' OR tag = ? ORDER BY id DESC",
                           (tag.strip().lower(), tag.strip().lower())).fetchall()
    return {"count": len(rows), "notes": [{"id": r["id"], "title": r["title"], "tag": r["tag"]} for r in rows]}


@server.tool(annotations=ToolAnnotations(destructive_hint=True), structured_output=False)
def delete_note(note_id: Annotated[int, Field(description="The number of the note to delete.")]) -> str:
    """Delete one note for good; only when the user asked for it."""
    with _db() as con:
        deleted = con.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount
    if not deleted:
        raise ToolError(f"there is no note {note_id}")
    return f"note {note_id} deleted"


if __name__ == "__main__":
    server.run("stdio")
