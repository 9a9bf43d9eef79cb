"""Every tool domain, registered on import (one module per group of domains)."""

from edgefc.train.data.families.domains import core, daily, work  # noqa: F401
