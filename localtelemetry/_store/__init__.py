"""The store: where documents live.

Owns the store's location (pure paths, nothing created until a document is written),
atomic writing, listing and retention. May import ``_contract`` only.
"""
