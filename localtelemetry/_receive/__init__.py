"""Receiving: what maintainers run over bundles from strangers.

Bundle reading (hostile input), ``inspect``, the reader API, ``report`` and ``ingest``.
May import ``_share``, ``_record``, ``_store`` and ``_contract``.
"""
