"""The contract: what every layer agrees on.

Owns the exceptions (one hierarchy under ``LocalTelemetryError``), the limits and name
patterns, document ids, and the published schemas with the one validity check every
reader uses. Imports nothing from localtelemetry outside this package.
"""
