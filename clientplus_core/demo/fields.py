"""Demo custom fields: the presets the product is known for (headcount, industry and
budget / commercial sector for companies; gender, birth date and education for
people) switched on, a value of each filled for every demo client, and a few saved
segments over them, so segmentation and the dashboard's segment filter show real
groups on the first start.

Values come from a random stream of their own (seeded from the demo's seed), so the
rest of the demo data is the same with or without them; they are written in their
stored form (:func:`~clientplus_core.records.custom_fields.normalise_value`) straight
into the bulk rows' ``extra`` column."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from clientplus_core.records import custom_fields as cf
from clientplus_core.store.db import Store
from clientplus_core.team import users

COMPANY_FIELDS = ("headcount", "industry", "sector")
PERSON_FIELDS = ("gender", "birth_date", "education")
FIELDS = COMPANY_FIELDS + PERSON_FIELDS

# the industry a company's main OKVED code (its first two digits) belongs to
OKVED_INDUSTRY = {
    "10": "Производство", "16": "Производство", "22": "Производство", "25": "Производство",
    "33": "Производство", "41": "Строительство", "43": "Строительство", "45": "Услуги",
    "46": "Торговля", "47": "Торговля", "49": "Транспорт", "52": "Транспорт",
    "56": "Услуги", "62": "IT", "63": "IT", "68": "Финансы", "69": "Услуги",
    "70": "Услуги", "73": "Услуги", "85": "Образование", "86": "Медицина",
}
EDUCATION = ("Среднее", "Среднее специальное", "Неоконченное высшее", "Высшее",
             "Учёная степень")
EDUCATION_WEIGHTS = (15, 30, 10, 40, 5)

# saved segments (owned by the local administrator, so every head sees them)
SEGMENTS: tuple[tuple[str, dict[str, list[str]]], ...] = (
    ("Производство, 51–250 сотрудников", {"industry": ["Производство"],
                                          "headcount": ["51–250"]}),
    ("Бюджетные организации", {"sector": ["Бюджетный"]}),
    ("IT-компании", {"industry": ["IT"]}),
    ("Женщины 25–34 лет", {"gender": ["Женский"], "age": ["25–34"]}),
)


def client_extra(rng: random.Random, kind: str, okved: str, female: bool,
                 today: date) -> dict[str, Any]:
    """The custom-field values of one demo client: a company's (``legal``) headcount,
    industry and sector; a person's gender, birth date and education; an
    entrepreneur (``ip``) has both (a small firm and its owner)."""
    out: dict[str, Any] = {}
    if kind != "person":
        industry = OKVED_INDUSTRY.get(okved[:2], "Другое")
        budget = False
        if kind == "legal":
            if rng.random() < 0.04:
                industry = "Госуправление"
            budget = (industry == "Госуправление"
                      or (industry in ("Образование", "Медицина") and rng.random() < 0.6)
                      or rng.random() < 0.04)
            headcount = max(1, min(5000, int(rng.lognormvariate(3.3, 1.4))))
        else:
            headcount = 1 + min(29, int(rng.lognormvariate(0.7, 0.9)))
        out.update(headcount=headcount, industry=industry,
                   sector="Бюджетный" if budget else "Коммерческий")
    if kind != "legal":
        age = int(rng.triangular(19, 72, 36))
        born = today - timedelta(days=age * 365 + rng.randrange(365))
        out.update(gender="Женский" if female else "Мужской", birth_date=born.isoformat(),
                   education=rng.choices(EDUCATION, EDUCATION_WEIGHTS)[0])
    return out


def ensure_fields(store: Store) -> None:
    """Switch on (as the local administrator) the demo's preset client fields that
    were never defined (a field an administrator defined or hid stays as they left it)."""
    admin = users.ensure_local_admin(store)
    have = {fd.key for fd in cf.list_fields(store, "client", active_only=False)}
    for key in FIELDS:
        if key not in have:
            cf.enable_preset(store, admin, "client", key)


def ensure_segments(store: Store) -> None:
    """Save (as the local administrator) the demo's segments that do not exist yet
    and whose fields are all active."""
    from clientplus_core.analytics import segments

    admin = users.ensure_local_admin(store)
    active = {fd.key for fd in cf.list_fields(store, "client")} | {"age"}
    have = {s["name"] for s in segments.list_segments(store, admin)}
    for name, where in SEGMENTS:
        usable = all(k in active for k in where) and ("age" not in where
                                                      or "birth_date" in active)
        if name not in have and usable:
            segments.save(store, admin, name, where)
