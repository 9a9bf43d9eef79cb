"""Named models, fetching and caching them, and turning a user's model reference into a local path."""

from edgefc.models.catalog import CATALOG, DEFAULT_MODEL, ModelEntry, get, lookup
from edgefc.models.store import cache_dir, cached_path, fetch
from edgefc.models.resolve import LocalModel, detect_format, resolve

__all__ = ["CATALOG", "DEFAULT_MODEL", "LocalModel", "ModelEntry", "cache_dir", "cached_path", "detect_format",
           "fetch", "get", "lookup", "resolve"]
