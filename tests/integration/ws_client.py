#!/usr/bin/python3
# ws_client.py URL CASE -- a WebSocket client on Debian's python3-websockets
# (asyncio API, 10.x) that test_websocket runs against weftd's
# websocket-echo handler (WebSocketMaxMessage 1M).  It prints one line per
# check; the C test compares the whole output.  Exit 0 when the case ran to
# its end, 1 otherwise.  Every wait is bounded.
import asyncio
import sys

import websockets
from websockets.exceptions import ConnectionClosed

WAIT = 20  # seconds, for any one step; generous for sanitizer builds
SIZES = [0, 125, 126, 65536, 1 << 20]
MAX = 1 << 20  # the server's WebSocketMaxMessage in these tests


def text(n):
    pattern = "abcdefghijklmnopqrstuvwxyz0123456789"
    return (pattern * (n // len(pattern) + 1))[:n]


def binary(n):
    return bytes(i % 251 for i in range(n))


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), WAIT)


async def echo(ws):
    for n in SIZES:
        for kind, msg in (("text", text(n)), ("binary", binary(n))):
            await ws.send(msg)
            got = await recv(ws)
            same = type(got) is type(msg) and got == msg
            print(f"{kind} {n} {'ok' if same else 'differs'}")
    msg = "h\u00e9llo w\u00f6rld \u2713 \U0001d11e"
    await ws.send(msg)
    print("text utf-8", "ok" if await recv(ws) == msg else "differs")


async def fragment(ws):
    # An iterable is sent as one fragmented message.
    await ws.send(["Hel", "lo, ", "w\u00f6rld"])
    got = await recv(ws)
    print("fragmented text", "ok" if got == "Hello, w\u00f6rld" else got)
    await ws.send([b"\x00\x01", b"", b"\x02" * 70000])
    got = await recv(ws)
    print("fragmented binary",
          "ok" if got == b"\x00\x01" + b"\x02" * 70000 else "differs")


async def ping(ws):
    for payload in (b"weft", b""):
        waiter = await ws.ping(payload)
        await asyncio.wait_for(waiter, WAIT)
        print(f"pong {len(payload)} ok")
    await ws.send("after ping")
    print("echo", await recv(ws))


async def close(ws):
    await ws.send("bye")
    await recv(ws)
    await asyncio.wait_for(ws.close(4000, "done"), WAIT)
    print(f"closed {ws.close_code} {ws.close_reason!r}")


async def expect_close(ws):
    try:
        got = await recv(ws)
        print("unexpected message", repr(got)[:40])
    except ConnectionClosed as e:
        print(f"closed {e.rcvd.code if e.rcvd else 1006}")


async def bad_utf8(ws):
    # The public API refuses to send bad text: the frame goes out raw.
    await ws.write_frame(True, 0x1, b"ok \xff\xfe")
    await expect_close(ws)


async def too_big(ws):
    await ws.send(b"\x00" * MAX)
    print("max", "ok" if len(await recv(ws)) == MAX else "differs")
    await ws.send(b"\x00" * (MAX + 1))
    await expect_close(ws)


async def shutdown(ws):
    await ws.send("hi")
    await recv(ws)
    print("open", flush=True)  # the test sends SIGTERM to weftd now
    await asyncio.wait_for(ws.wait_closed(), WAIT)
    print(f"closed {ws.close_code} {ws.close_reason}")


CASES = {
    "echo": echo,
    "fragment": fragment,
    "ping": ping,
    "close": close,
    "utf8": bad_utf8,
    "toobig": too_big,
    "shutdown": shutdown,
}


async def main(url, case):
    async with websockets.connect(url, max_size=None, ping_interval=None,
                                  open_timeout=WAIT,
                                  close_timeout=WAIT) as ws:
        await CASES[case](ws)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print("usage: ws_client.py URL " + "|".join(CASES), file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]),
                                     4 * WAIT))
    except Exception as e:  # the test shows this line on failure
        print(f"error {type(e).__name__}: {e}")
        sys.exit(1)
