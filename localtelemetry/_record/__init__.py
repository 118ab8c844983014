"""Recording one run: environment facts, keyed hashing, scrubbing, documents.

Turns what a run of a host app saw into documents that are safe to keep and hands them
to the store. May import ``_store`` and ``_contract``.
"""
