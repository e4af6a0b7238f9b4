"""`halubench refresh`: keep every judge of the board fresh, incrementally, never partial.

config (what the board shows), canary (has an API model drifted?), state (what
is published as stale, what changed, where an interrupted refresh resumes),
report (the summary a person or the workflow reads), engine (the night itself).
"""
