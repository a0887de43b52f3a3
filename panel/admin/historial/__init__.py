"""Historial: the read-only audit log and how each entry reads."""
