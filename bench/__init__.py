"""Benchmarks of the panel against Flask-Admin's and the SMS document's baselines (issue 7)."""
