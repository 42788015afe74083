"""AppTest runs in-process: tell the app it listens on loopback so that, with no
passwords in the data folder, the local administrator is signed in (the local
single-user mode). Tests about sign-in set the address themselves."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config


@pytest.fixture(autouse=True)
def loopback_server() -> Iterator[None]:
    old = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", old)
