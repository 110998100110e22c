"""Assemblers: pick and order content for one output (a newsletter issue, a post, a release)."""
