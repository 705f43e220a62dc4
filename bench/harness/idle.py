"""Open N keep-alive connections to 127.0.0.1:PORT, make one request on
each, then hold them idle until stdin closes or HOLD seconds pass.

Run by the harness as `python3 -m harness.idle PORT N HOLD`: it prints
`ready N` (or `ready K` with K < N if some failed) once every connection
has had its answer, so the harness can read the proxy's RSS meanwhile.
Connections are closed with an RST (SO_LINGER 0) so no TIME_WAIT piles up."""

import asyncio
import resource
import socket
import struct
import sys

from .configs import BEARER_TOKEN

REQUEST = (b"GET /bytes/2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Authorization: Bearer " + BEARER_TOKEN.encode() + b"\r\n\r\n")
PARALLEL_OPENS = 200


async def one(port: int, gate: asyncio.Semaphore, held: list) -> None:
    async with gate:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 10)
            writer.write(REQUEST)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await asyncio.wait_for(reader.readexactly(length), 10)
            held.append(writer)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
            pass


async def main(port: int, count: int, hold_s: float) -> None:
    gate = asyncio.Semaphore(PARALLEL_OPENS)
    held: list = []
    await asyncio.gather(*(one(port, gate, held) for _ in range(count)))
    print(f"ready {len(held)}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.read), hold_s)
    except asyncio.TimeoutError:
        pass
    linger = struct.pack("ii", 1, 0)
    for writer in held:
        sock = writer.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        writer.close()


if __name__ == "__main__":
    port, count, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 256 if hard == resource.RLIM_INFINITY else min(count + 256, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(main(port, count, hold))
