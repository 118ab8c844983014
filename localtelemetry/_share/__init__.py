"""Sharing: ``export`` selects, projects onto the schema, re-scrubs, re-keys,
validates and zips a bundle a user can hand on.

May import ``_record``, ``_store`` and ``_contract``.
"""
