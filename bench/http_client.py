"""A small HTTP client for servers on loopback: JSON in, JSON out, one connection a request."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

HOST = "127.0.0.1"


def get_json(port: int, path: str, timeout: float = 10) -> tuple[int, Any]:
    """GET on loopback: the status and the JSON body (None when it is not JSON)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, loads(resp.read())
    finally:
        conn.close()


def post_json(port: int, path: str, body: dict[str, Any], timeout: float) -> tuple[int, dict[str, str], Any, float]:
    """POST a JSON body on loopback: status, headers, JSON answer (None when not JSON) and seconds taken."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), loads(data), time.perf_counter() - started
    finally:
        conn.close()


def loads(data: bytes | str) -> Any:
    """JSON data, or None where it is not JSON."""
    try:
        return json.loads(data)
    except ValueError:
        return None
