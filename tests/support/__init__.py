"""Helpers shared by the test suite (external-tool harnesses, skip/fail policy)."""
