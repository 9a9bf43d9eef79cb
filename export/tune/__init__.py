"""`edgefc tune`: the best file for this device, weighed on BFCL against the source."""
