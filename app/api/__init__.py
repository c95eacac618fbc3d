"""HTTP layer: thin routers that parse, authorise through deps and respond."""
