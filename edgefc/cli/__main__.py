"""`python -m edgefc.cli`: the `edgefc` command."""

from edgefc.cli import main

main()
