"""Partner feeds, the second source of content: ``feeds.yaml`` (config), fetching over
HTTP (fetch), sanitising (sanitize), the fetch state and seen-store (state), news files
for review (news), and one fetch run with its decisions (run)."""
