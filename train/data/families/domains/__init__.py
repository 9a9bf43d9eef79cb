"""Every tool domain, registered on import (one module per group of domains)."""

from edgefc.train.data.families.domains import core  # noqa: F401
