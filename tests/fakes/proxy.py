"""A local HTTP CONNECT proxy with Basic credentials, standing in for an office's proxy.

It tunnels only to loopback and records each tunnel's target and credentials, so a test can
show that every Bot API request went through it and that the credentials were sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass, field


@dataclass
class FakeProxy:
    user: str = "office"
    password: str = "pr0xy-pass"
    tunnels: list[tuple[str, str | None]] = field(default_factory=list)  # (host:port, user)
    refused: int = 0
    url: str = ""
    _server: asyncio.Server | None = None
    _pipes: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> FakeProxy:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.user}:{self.password}@127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._pipes):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
        auth = headers.get("Proxy-Authorization", "")
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        host = target.rsplit(":", 1)[0]
        if method != "CONNECT" or auth != f"Basic {expected}" or host != "127.0.0.1":
            self.refused += 1
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        self.tunnels.append((target, self.user))
        upstream_host, upstream_port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(upstream_host, int(upstream_port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(OSError):
            dst.close()
