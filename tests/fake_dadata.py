"""A fake DaData suggestions API on 127.0.0.1 for the tests.

``with FakeDadata() as fake:`` starts an ``http.server`` in a thread on a free
port; ``fake.url`` is the base URL to configure. It answers ``findById/party``,
``findById/bank``, ``findById/postal_unit`` and ``suggest/address`` in DaData's
documented shapes from the data below, checks the ``Authorization: Token …``
header, records every request, and fails on purpose when ``fake.mode`` is one of
``401``, ``403``, ``429``, ``500``, ``"timeout"`` (sleeps ``fake.delay`` seconds,
longer than the client's read timeout in the tests) or ``"badjson"``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token"

# A legal entity with a head office and a branch (valid INN/OGRN check digits).
LEGAL_INN = "7707083893"
LEGAL_OGRN = "1027700132195"
# An entrepreneur.
IP_INN = "500100732259"
IP_OGRNIP = "304500116000157"
# A liquidated company.
DEAD_INN = "7736207543"
# A company the register does not know (valid checksum, empty answer).
UNKNOWN_INN = "7702070139"
BIK = "044525225"
CORR = "30101810400000000225"
INDEX = "127006"


def _ms(iso_date: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.fromisoformat(iso_date).replace(tzinfo=UTC).timestamp() * 1000)


def _party(value: str, **data: Any) -> dict[str, Any]:
    return {"value": value, "unrestricted_value": value, "data": data}


def _address(value: str, index: str) -> dict[str, Any]:
    return {"value": value, "unrestricted_value": f"{index}, {value}",
            "data": {"postal_code": index, "city_with_type": "г Москва"}}


HEAD = _party(
    'ООО "ТЕСТОВАЯ КОМПАНИЯ"',
    inn=LEGAL_INN, kpp="773601001", ogrn=LEGAL_OGRN, okved="62.01", type="LEGAL",
    branch_type="MAIN", branch_count=1,
    name={"short_with_opf": 'ООО "ТЕСТОВАЯ КОМПАНИЯ"',
          "full_with_opf": 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ТЕСТОВАЯ КОМПАНИЯ"'},
    address=_address("г Москва, ул Вавилова, д 19", "117312"),
    management={"name": "Иванов Иван Иванович", "post": "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР"},
    state={"status": "ACTIVE", "registration_date": _ms("2002-08-16"),
           "liquidation_date": None})
BRANCH = _party(
    'ФИЛИАЛ ООО "ТЕСТОВАЯ КОМПАНИЯ" В Г. НОВОСИБИРСКЕ',
    inn=LEGAL_INN, kpp="540602001", ogrn=LEGAL_OGRN, type="LEGAL", branch_type="BRANCH",
    name={"short_with_opf": None, "full_with_opf": None},
    address=_address("г Новосибирск, ул Серебренниковская, д 20", "630099"),
    management=None, state={"status": "ACTIVE"})
IP = _party(
    "ИП Петров Пётр Петрович",
    inn=IP_INN, kpp=None, ogrn=IP_OGRNIP, okved="47.91", type="INDIVIDUAL",
    branch_type=None,
    name={"short_with_opf": "ИП Петров Пётр Петрович",
          "full_with_opf": "Индивидуальный предприниматель Петров Пётр Петрович"},
    fio={"surname": "Петров", "name": "Пётр", "patronymic": "Петрович"},
    address=_address("г Москва", "101000"), management=None,
    state={"status": "ACTIVE", "registration_date": _ms("2004-06-01")})
DEAD = _party(
    'ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"',  # markup in the answer must be shown as text
    inn=DEAD_INN, kpp="770101001", ogrn="1027739244741", okved="47.11", type="LEGAL",
    branch_type="MAIN",
    name={"short_with_opf": 'ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"',
          "full_with_opf": 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ЗАКРЫТАЯ ФИРМА"'},
    address=_address("г Москва, ул Тверская, д 1", "125009"),
    management={"name": "Сидоров Сидор Сидорович", "post": "ЛИКВИДАТОР"},
    state={"status": "LIQUIDATED", "registration_date": _ms("2002-10-10"),
           "liquidation_date": _ms("2021-03-05")})

PARTIES: dict[str, list[dict[str, Any]]] = {
    LEGAL_INN: [HEAD, BRANCH], LEGAL_OGRN: [HEAD, BRANCH],
    IP_INN: [IP], IP_OGRNIP: [IP], DEAD_INN: [DEAD],
}
BANKS: dict[str, list[dict[str, Any]]] = {
    BIK: [{"value": "ПАО Сбербанк", "unrestricted_value": "ПАО Сбербанк", "data": {
        "bic": BIK, "swift": "SABRRUMM", "correspondent_account": CORR,
        "name": {"payment": "ПАО СБЕРБАНК", "short": "СБЕРБАНК"},
        "address": {"value": "г Москва, ул Вавилова, д 19",
                    "data": {"city": "Москва", "postal_code": "117312"}},
        "state": {"status": "ACTIVE"}}}],
}
POSTAL_UNITS: dict[str, list[dict[str, Any]]] = {
    INDEX: [{"value": "127006", "unrestricted_value": "127006", "data": {
        "postal_code": INDEX, "address_str": "г Москва, ул Тверская, д 7", "is_closed": False}}],
}
ADDRESSES: dict[str, list[dict[str, Any]]] = {
    INDEX: [{"value": "г Москва, ул Малая Дмитровка", "data": {
                "postal_code": INDEX, "region_with_type": "г Москва",
                "city_with_type": "г Москва", "settlement_with_type": None,
                "street_with_type": "ул Малая Дмитровка"}},
            {"value": "г Москва, ул Садовая-Триумфальная", "data": {
                "postal_code": INDEX, "region_with_type": "г Москва",
                "city_with_type": "г Москва", "settlement_with_type": None,
                "street_with_type": "ул Садовая-Триумфальная"}}],
}


class FakeDadata:
    """The fake server; use as a context manager."""

    def __init__(self) -> None:
        self.mode: int | str | None = None
        self.delay = 1.0
        self.requests: list[tuple[str, dict[str, Any], str]] = []  # (method, body, auth)
        self._conns: list[socket.socket] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def setup(self) -> None:
                super().setup()
                fake._conns.append(self.connection)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                method = self.path.split("/rs/", 1)[-1]
                fake.requests.append((method, body, self.headers.get("Authorization", "")))
                mode = fake.mode
                if mode == "timeout":
                    time.sleep(fake.delay)
                    return self._send(200, b'{"suggestions": []}')
                if isinstance(mode, int):
                    return self._send(mode, b'{"message": "fail"}')
                if mode == "badjson":
                    return self._send(200, b'{"suggestions": [ not json')
                if self.headers.get("Authorization") != f"Token {TOKEN}":
                    return self._send(401, b'{"message": "bad token"}')
                self._send(200, json.dumps(fake.answer(method, body),
                                           ensure_ascii=False).encode())

            def _send(self, code: int, payload: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/suggestions/api/4_1/rs"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        query = str(body.get("query", ""))
        table = {"findById/party": PARTIES, "findById/bank": BANKS,
                 "findById/postal_unit": POSTAL_UNITS, "suggest/address": ADDRESSES}.get(method, {})
        items = list(table.get(query, []))
        if method == "findById/party" and body.get("branch_type") == "MAIN":
            items = [i for i in items if i["data"].get("branch_type") != "BRANCH"]
        return {"suggestions": items[: int(body.get("count") or 10)]}

    def count(self, method: str | None = None) -> int:
        return sum(1 for m, _, _ in self.requests if method is None or m == method)

    def start(self) -> FakeDadata:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop kept-alive connections (as a dead service would)."""
        self.server.shutdown()
        self.server.server_close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def __enter__(self) -> FakeDadata:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
