"""The soak run: the whole system for many minutes with faults injected at random (not in CI).

    python -m tests.soak --minutes 30 --symbols BTCUSDT,ETHUSDT --source replay \
        --report docs/reliability.md
"""
