"""Pytest fixtures for the fake Twilio server (registered from conftest.py)."""
