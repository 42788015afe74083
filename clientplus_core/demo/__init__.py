"""Realistic, deterministic demo data: users, clients, contacts and attachments.

The generator is built for volume (``clientplus demo --clients 100000`` in well
under two minutes): Faker is only asked once for small pools of names and
streets, which a seeded :class:`random.Random` then combines; rows are written
with ``executemany`` in chunks, each chunk in one transaction, and indexed for
search by the same functions the normal write path uses
(:func:`clientplus_core.clients.cards.index_client` and friends), so the search index
is exactly what creating the same rows one by one would produce.

Every generated requisite is valid: INN and OGRN/OGRNIP check digits, KPP,
real BIKs with their correspondent accounts, settlement accounts whose key digit
matches the BIK, phones that ``phonenumbers`` accepts as valid Russian numbers.

The package's face: the names callers use, from
:mod:`~clientplus_core.demo.words` (the vocabulary and valid requisites),
:mod:`~clientplus_core.demo.clients` (clients, contacts, attachments and their bulk load),
:mod:`~clientplus_core.demo.sales` (sales with lines, statuses, payments and contact
history) and :mod:`~clientplus_core.demo.extras` (consents, documents, tasks, an
address book with a draft mailing). :mod:`~clientplus_core.demo.first_start` runs the
first start of a new data folder (``clientplus init --demo-if-new``), resumably.
"""

from __future__ import annotations

from clientplus_core.demo.clients import (
    FTS_DEFAULT_HASHSIZE,
    client_records,
    ensure_demo_users,
    generate,
)
from clientplus_core.demo.extras import (
    add_demo_consents,
    generate_documents,
    generate_outreach,
    generate_tasks,
)
from clientplus_core.demo.sales import generate_sales, restore_dropped_indexes
from clientplus_core.demo.words import (
    BANKS,
    CITIES,
    DEMO_USERS,
    PRODUCTS,
    Bank,
    City,
    make_account,
    make_kpp,
    make_landline,
    make_mobile,
    make_ogrn,
    make_ogrnip,
    make_valid_inn,
)

__all__ = [
    "BANKS",
    "CITIES",
    "DEMO_USERS",
    "FTS_DEFAULT_HASHSIZE",
    "PRODUCTS",
    "Bank",
    "City",
    "add_demo_consents",
    "client_records",
    "ensure_demo_users",
    "generate",
    "generate_documents",
    "generate_outreach",
    "generate_sales",
    "generate_tasks",
    "make_account",
    "make_kpp",
    "make_landline",
    "make_mobile",
    "make_ogrn",
    "make_ogrnip",
    "make_valid_inn",
    "restore_dropped_indexes",
]
