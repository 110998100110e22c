"""Publishers: hand finished outputs to the outside world (mail server, APIs)."""
