"""Helpers the test suites share: free ports and waiting (waiting), real OS processes (processes),
the simulator (simulator), the whole pipeline (pipeline), the writer's Stored lines (logs), checks
of stored books (books), the one fake clock (clock), a test's unit of data (seconds), a small disk
(disk). Fixtures stay in the conftest.py files."""
