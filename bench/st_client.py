"""A Streamlit session without a browser, for ``bench_pages.py --sessions``.

It speaks the protocol the browser speaks to ``/_stcore/stream``: a ``BackMsg``
``rerun_script`` with the page's address and query (what a click in the sidebar or
a page load sends), then the server's ``ForwardMsg``s until ``script_finished``.
The server does exactly the work it does for a browser tab (the same script run,
the same elements serialised and sent); only the rendering is left out, which on a
real team happens on each person's own computer, not on the server's two cores.

The session cookie is the one a browser got by signing in, so the app signs the
session in as it signs in a returning tab.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect


@dataclass
class Run:
    """One script run as the server delivered it."""

    ms: float
    status: str
    exception: bool
    bytes_in: int
    headings: list[str]


@dataclass
class HeadlessSession:
    """One person's tab: ``await s.open()``, then ``await s.run("clients")``."""

    url: str                      # http://127.0.0.1:PORT
    cookies: dict[str, str]
    timezone: str = "Europe/Moscow"
    _ws: ClientConnection | None = field(default=None, repr=False)

    async def open(self) -> None:
        """Connect (a full page load opens a new connection)."""
        await self.close()
        ws_url = self.url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await connect(ws_url, subprotocols=["streamlit"],  # type: ignore[list-item]
                                 additional_headers={"Cookie": cookie,
                                                     "Origin": self.url},
                                 max_size=None, open_timeout=60)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def run(self, page: str, query: str = "", timeout: float = 120) -> Run:
        """Ask for ``page`` (its address without the slash) and wait until the script
        finished; ms from the request to the last message of the run."""
        assert self._ws is not None, "open() first"
        msg = BackMsg()
        state = msg.rerun_script
        state.page_name = page
        state.query_string = query
        state.context_info.timezone = self.timezone
        state.context_info.timezone_offset = -180
        state.context_info.locale = "ru-RU"
        state.context_info.url = f"{self.url}/{page}" + (f"?{query}" if query else "")
        t0 = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        return await self._until_finished(t0, timeout)

    async def _until_finished(self, t0: float, timeout: float) -> Run:
        assert self._ws is not None
        exception, size, headings = False, 0, []
        deadline = t0 + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the script did not finish")
            raw: Any = await asyncio.wait_for(self._ws.recv(), timeout=left)
            size += len(raw)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            element = fwd.delta.new_element if kind == "delta" else None
            if element is not None and element.WhichOneof("type") == "exception":
                exception = True
            if element is not None and element.WhichOneof("type") == "heading":
                headings.append(element.heading.body)
            if kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the app reran itself (st.rerun): the next run follows
                return Run((time.perf_counter() - t0) * 1000, status, exception, size, headings)
