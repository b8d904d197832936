"""FrameSocket: frames cut from whatever arrived, RFC 6455's client rules, bounded messages.

The server side is the other end of a real socketpair; the client is websocket-client's real
``WebSocket`` on its end (it sends the pongs, masked as a client must)."""

from __future__ import annotations

import datetime
import socket
import ssl
import struct
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import websocket
from cryptography import x509  # in the lock, through pyjwt (mcp)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from collector.wsframes import BINARY, CLOSE, PING, PONG, TEXT, FrameSocket


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bool = False) -> bytes:
    """A server frame as it appears on the wire."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", n)
    return head + (b"\0\0\0\0" if mask else b"") + payload


@pytest.fixture
def pair() -> Iterator[tuple[FrameSocket, socket.socket]]:
    client, server = socket.socketpair()
    ws = websocket.WebSocket()
    ws.sock, ws.connected = client, True
    reader = FrameSocket(ws, max_message=100_000)
    yield reader, server
    client.close()
    server.close()


def test_every_frame_that_arrived_is_returned_at_once(pair):
    reader, server = pair
    server.sendall(frame(TEXT, b'{"a":1}') + frame(BINARY, b"\x01") + frame(TEXT, b"x" * 70_000))

    got = []
    while len(got) < 3:
        got += reader.read(1.0)

    assert got == [(TEXT, b'{"a":1}'), (BINARY, b"\x01"), (TEXT, b"x" * 70_000)]
    assert reader.read(0.01) == []


def test_a_frame_split_across_reads_is_returned_once_whole(pair):
    reader, server = pair
    wire = frame(TEXT, b"y" * 300)
    server.sendall(wire[:1])
    assert reader.read(0.2) == []
    server.sendall(wire[1:3])
    assert reader.read(0.2) == []
    server.sendall(wire[3:])

    assert reader.read(1.0) == [(TEXT, b"y" * 300)]


def test_fragments_are_joined_and_control_frames_between_them_pass(pair):
    reader, server = pair
    server.sendall(
        frame(TEXT, b"ab", fin=False)
        + frame(PING, b"p1")
        + frame(0, b"cd", fin=False)
        + frame(0, b"ef")
    )

    assert reader.read(1.0) == [(PING, b"p1"), (TEXT, b"abcdef")]


def test_pong_goes_out_masked_through_websocket_client(pair):
    reader, server = pair
    reader.pong(b"p1")

    data = server.recv(100)
    assert data[0] == 0x80 | PONG  # fin, pong
    assert data[1] == 0x80 | 2  # masked, 2 bytes
    key, body = data[2:6], data[6:8]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b"p1"


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (frame(TEXT, b"hi", mask=True), "mask"),
        (bytes([0x80 | 0x40 | TEXT, 2]) + b"hi", "extension bits"),
        (frame(0x3, b""), "unknown opcode"),
        (frame(PING, b"x" * 126), "control frame"),
        (frame(PING, b"", fin=False), "control frame"),
        (frame(0, b"tail"), "continuation without"),
        (frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"), "inside a fragmented"),
        (frame(TEXT, b"a", fin=False) + frame(0, b"b" * 100_000), "at most 100000"),
    ],
)
def test_a_protocol_violation_is_refused(pair, wire, reason):
    reader, server = pair
    server.sendall(wire)

    with pytest.raises(websocket.WebSocketProtocolException, match=reason):
        reader.read(1.0)


def test_a_giant_length_is_refused_from_the_header_alone(pair):
    reader, server = pair
    server.sendall(bytes([0x80 | TEXT, 127]) + struct.pack("!Q", 2**63 - 1))  # no payload at all

    with pytest.raises(websocket.WebSocketProtocolException, match="at most 100000"):
        reader.read(1.0)


def test_close_frame_and_end_of_stream(pair):
    reader, server = pair
    server.sendall(frame(CLOSE, struct.pack("!H", 1000)))
    assert reader.read(1.0) == [(CLOSE, b"\x03\xe8")]

    server.shutdown(socket.SHUT_WR)
    with pytest.raises(websocket.WebSocketConnectionClosedException):
        reader.read(1.0)


def test_a_read_allocates_what_arrived_not_a_whole_receive_chunk(pair):
    # recv(65536) took a fresh 64 kB block of the heap per read and shrank it; between those
    # blocks the collector's long-lived records fragmented the heap, which grew without end.
    reader, server = pair
    reader.read(0.01)  # warm up (the poller, the first call's own objects)
    tracemalloc.start()
    try:
        for _ in range(20):
            server.sendall(frame(TEXT, b"z" * 500))
            assert reader.read(1.0) == [(TEXT, b"z" * 500)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16_384


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_frames_arrive_whole_over_tls(tmp_path):
    # Live Binance is wss://: the reader must drain what TLS has decrypted, not only the socket.
    cert_file, key_file = _self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cert_file)
    raw_client, raw_server = socket.socketpair()
    accepted: list[ssl.SSLSocket] = []
    handshake = threading.Thread(
        target=lambda: accepted.append(server_ctx.wrap_socket(raw_server, server_side=True))
    )
    handshake.start()
    client = client_ctx.wrap_socket(raw_client, server_hostname="localhost")
    handshake.join(5)
    server = accepted[0]
    ws = websocket.WebSocket()
    ws.sock, ws.connected = client, True
    reader = FrameSocket(ws, max_message=1_000_000)
    payloads = [bytes([65 + i % 26]) * size for i, size in enumerate((10, 70_000, 3, 200_000, 125))]
    sender = threading.Thread(
        target=server.sendall, args=(b"".join(frame(TEXT, p) for p in payloads),)
    )
    sender.start()
    got: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + 5
    while len(got) < len(payloads) and time.monotonic() < deadline:
        got += reader.read(0.5)
    sender.join(5)
    try:
        assert got == [(TEXT, p) for p in payloads]
    finally:
        client.close()
        server.close()
