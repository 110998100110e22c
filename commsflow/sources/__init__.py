"""Sources read files (and feeds) and produce typed items. They never render outputs."""
