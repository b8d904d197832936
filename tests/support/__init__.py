"""Helpers the test suites share: free ports, waiting for a condition, real OS processes."""
