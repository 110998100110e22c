"""One module per CLI command; ``commsflow.cli`` only wires them."""
