"""Alternatives the benchmark compares localtelemetry with, each recording one run."""
