"""The hello carries the self-check counts; an older hello without them still decodes."""

from __future__ import annotations

import msgpack

from shared.backfill import Hello, decode_hello
from shared.codec import encode


def test_a_hello_carries_the_self_check_counts():
    hello = Hello("BTCUSDT", 7, 100, 1_000, 1_200, checks=12, mismatches=1)
    assert decode_hello(encode(hello)) == hello
    assert msgpack.unpackb(encode(hello))["chk"] == 12


def test_a_hello_from_a_collector_without_the_counts_still_decodes():
    old = {"sym": "BTCUSDT", "ses": 7, "seq": 100, "first": 1_000, "last": 1_200, "v": 1}
    hello = decode_hello(msgpack.packb(old))
    assert (hello.checks, hello.mismatches) == (0, 0)
