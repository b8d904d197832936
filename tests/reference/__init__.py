"""Slow, obviously-correct reference implementations of every analytics tool, from the docs.

Each module follows docs/analytics.md line by line with ``decimal.Decimal`` arithmetic (60
digits) and shares no code with ``query/analytics`` beyond the record types of
``shared/model.py``. The property tests compare the production tools with them.
"""
