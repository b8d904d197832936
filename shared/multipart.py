"""ZeroMQ multipart receives with a bound on what Python builds of one message.

libzmq has no limit on the frames of a message: it delivers a message whole, and
``recv_multipart`` makes a Python object of every frame (one message of 2,000,000 empty frames is
4 MB on the wire and grew a process by ~120 MB, docs/reliability.md "Known limits"). Every socket
a peer can reach reads through here instead: the first ``keep`` frames of a message, the rest
read and dropped, so a message costs Python O(``keep``) objects whatever it holds.

``keep`` is one more than the most frames a valid message has, so a longer message is still
seen to be too long by the code that validates it.
"""

from __future__ import annotations

import zmq

_NOBLOCK = zmq.NOBLOCK.value


def receive(socket: zmq.Socket[bytes], keep: int) -> list[zmq.Frame]:
    """The first ``keep`` frames of one waiting message (zmq.Again if none), as ``zmq.Frame``s
    (properties such as User-Id stay readable); never blocks."""
    recv = socket.recv
    frame = recv(_NOBLOCK, copy=False)
    frames = [frame]
    while frame.more:  # the rest of a message is there once its first frame is
        frame = recv(_NOBLOCK, copy=False)
        if len(frames) < keep:
            frames.append(frame)
    return frames


def drain(socket: zmq.Socket[bytes], keep: int, limit: int) -> list[list[bytes]]:
    """Up to ``limit`` waiting messages, each its first ``keep`` frames as bytes; never blocks.

    (The writer's ingest loop: on ``zmq.Frame``s asked ``more``, because ``Socket.get(RCVMORE)``
    converts the option to an enum per frame, ~0.7 µs a record in all.)
    """
    messages: list[list[bytes]] = []
    recv = socket.recv
    while len(messages) < limit:
        try:
            frame = recv(_NOBLOCK, copy=False)
        except zmq.Again:
            break
        frames = [frame.bytes]
        while frame.more:
            frame = recv(_NOBLOCK, copy=False)
            if len(frames) < keep:
                frames.append(frame.bytes)
        messages.append(frames)
    return messages
