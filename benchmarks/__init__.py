"""`make bench`: figures as JSON lines, each a ratio against a baseline run in the same process."""
