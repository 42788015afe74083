"""Who signs for a party, in the words a Russian contract uses: the signatory's post
and name in the genitive («в лице Генерального директора Иванова Ивана Ивановича»),
the basis of the authority («действующего на основании Устава») and the participle
that names the party («именуемое / именуемый / именуемая в дальнейшем …»).

Names are declined with ``pytrovich`` (a port of the petrovich rules, which also tells
the gender from the patronymic); posts with ``pymorphy3``: the leading adjectives and
the first noun of the post go into the genitive, the rest is kept («Директор по
развитию» → «Директора по развитию»; «И.о. генерального директора» stays as it is).
Both are right for ordinary Russian names and posts; where they are not, the card
(or the company settings) has ``director_name_gen`` / ``director_post_gen`` fields
whose text is used as it is, and ``director_gender`` («муж.» / «жен.») for a name
whose gender the patronymic does not tell (a foreign name, initials only): it decides
«действующего» / «действующей», «именуемый» / «именуемая» and the declension.

The basis, when the ``basis`` field is empty: «Устава» for a legal entity; for an
individual entrepreneur «записи в ЕГРИП ОГРНИП …» (the state registration record:
no certificate has been issued to a new ИП since 2017, so the record is the form
that fits every ИП; an older ИП may type «свидетельства серии … № …» into the field).
A private person (``kind="person"``) signs for himself: no basis.

Nothing here raises on odd input: a name the libraries cannot parse is left as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

__all__ = ["automatic", "decline_name", "decline_post", "gender", "party_words", "person_name",
           "signatory_gender"]

_IP_PREFIX = re.compile(r"^\s*(ИП|И\.П\.|индивидуальный\s+предприниматель)\s+", re.IGNORECASE)
_PATRONYMIC = ("вич", "вна", "чна", "оглы", "кызы", "улы")
_DECLINABLE = {"NOUN", "ADJF", "PRTF"}
_ORG_ABBR = re.compile(r"^[A-ZА-ЯЁ]{2,5}\b")


@cache
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@cache
def _petrovich() -> tuple[Any, Any]:
    from pytrovich.detector import PetrovichGenderDetector
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker(), PetrovichGenderDetector()


def _tagged(word: str, grammeme: str) -> bool:
    """Whether the dictionary reads ``word`` in the nominative as a ``Name`` / ``Surn``."""
    try:
        return any(grammeme in p.tag and p.tag.case == "nomn" for p in _morph().parse(word))
    except Exception:  # noqa: BLE001
        return False


def _is_initial(word: str) -> bool:
    return word.endswith(".") or len(word) == 1


def _split_fio(full: str) -> tuple[str, str, str]:
    """(surname, first name, patronymic) of a name written «Фамилия Имя Отчество»
    (or «Имя Отчество Фамилия», told by the patronymic in the middle)."""
    parts = full.split()
    if not parts:
        return "", "", ""
    if len(parts) == 3 and parts[1].lower().endswith(_PATRONYMIC) \
            and not parts[2].lower().endswith(_PATRONYMIC):
        return parts[2], parts[0], parts[1]
    if len(parts) == 2 and _tagged(parts[0], "Name") and _tagged(parts[1], "Surn") \
            and not _tagged(parts[0], "Surn"):
        return parts[1], parts[0], ""
    return parts[0], parts[1] if len(parts) > 1 else "", " ".join(parts[2:])


def person_name(party: Mapping[str, Any]) -> str:
    """The signatory's full name: ``director_name``, else (for an ИП or a person) the
    name without the «ИП» / «Индивидуальный предприниматель» prefix."""
    name = str(party.get("director_name") or "").strip()
    if name or party.get("kind") not in ("ip", "person"):
        return name
    return _IP_PREFIX.sub("", str(party.get("name") or "")).strip()


def gender(full: str) -> str:
    """``"f"`` or ``"m"`` for a person's name: by the petrovich rules (the patronymic
    decides), then by the first name's gender in the dictionary; ``"m"`` when nothing
    tells (a lone surname like «Ким»)."""
    surname, first, middle = _split_fio(full)
    if not surname:
        return "m"
    try:
        from pytrovich.enums import Gender

        found = _petrovich()[1].detect(
            lastname=surname, firstname=None if _is_initial(first) else first or None,
            middlename=None if _is_initial(middle) else middle or None)
        if found == Gender.FEMALE:
            return "f"
        if found == Gender.MALE:
            return "m"
        if first and not _is_initial(first):
            for p in _morph().parse(first):
                if "Name" in p.tag and p.tag.gender in ("masc", "femn"):
                    return "f" if p.tag.gender == "femn" else "m"
    except Exception:  # noqa: BLE001 - a library's surprise must not stop a document
        pass
    return "m"


def decline_name(full: str, sex: str = "") -> str:
    """A person's full name in the genitive («Иванов Иван Иванович» → «Иванова Ивана
    Ивановича»); initials are kept («Иванов И. И.» → «Иванова И. И.»). ``sex``
    (``"m"`` / ``"f"``, as chosen on the card) overrides the gender told by the name."""
    full = " ".join(str(full or "").split())
    surname, first, middle = _split_fio(full)
    if not surname:
        return full
    try:
        from pytrovich.enums import Case, Gender, NamePart

        maker = _petrovich()[0]
        g = Gender.FEMALE if (sex if sex in ("m", "f") else gender(full)) == "f" \
            else Gender.MALE
        out: dict[str, str] = {}
        for key, part, value in (("s", NamePart.LASTNAME, surname),
                                 ("f", NamePart.FIRSTNAME, first),
                                 ("m", NamePart.MIDDLENAME, middle)):
            if not value or _is_initial(value) or " " in value:
                out[key] = value
            elif value.isupper():   # «ЖУКОВА» → «ЖУКОВОЙ», not «ЖУКОВой»
                out[key] = maker.make(part, g, Case.GENITIVE, value.capitalize()).upper()
            else:
                out[key] = maker.make(part, g, Case.GENITIVE, value)
    except Exception:  # noqa: BLE001
        return full
    words = full.split()
    if len(words) == 3 and words[0] == first and words[2] == surname:
        return f"{out['f']} {out['m']} {out['s']}"
    if len(words) == 2 and words[0] == first and words[1] == surname:
        return f"{out['f']} {out['s']}"
    return " ".join(x for x in (out["s"], out["f"], out["m"]) if x)


def _same_case(model: str, word: str) -> str:
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def decline_post(post: str) -> str:
    """A post in the genitive: the leading adjectives and participles and the first
    noun, each as written in the nominative, go into the genitive; the rest is kept
    («Генеральный директор» → «Генерального директора»)."""
    words = str(post or "").split()
    try:
        morph = _morph()
        for i, word in enumerate(words):
            parsed = next((p for p in morph.parse(word)
                           if p.tag.POS in _DECLINABLE and p.tag.case == "nomn"), None)
            if parsed is None:
                break
            gent = parsed.inflect({"gent"})
            if gent is None:
                break
            words[i] = _same_case(word, gent.word)
            if parsed.tag.POS == "NOUN":
                break
    except Exception:  # noqa: BLE001
        return " ".join(str(post or "").split())
    return " ".join(words)


def _org_gender(full_name: str) -> str:
    """The grammatical gender of an organisation's head noun («Общество …» neuter,
    «Автономная некоммерческая организация» feminine, «Фонд …» masculine); an
    abbreviation («ООО «…»») or anything unknown counts as neuter."""
    if _ORG_ABBR.match(full_name.strip()):
        return "neut"
    try:
        for word in full_name.split()[:4]:
            parsed = next((p for p in _morph().parse(word.strip("«»\"'"))
                           if p.tag.case == "nomn"), None)
            if parsed is None:
                return "neut"
            if parsed.tag.POS == "NOUN":
                found = str(parsed.tag.gender or "neut")
                return found if found in ("neut", "masc", "femn") else "neut"
    except Exception:  # noqa: BLE001
        pass
    return "neut"


NAMED = {"neut": "именуемое", "masc": "именуемый", "femn": "именуемая",
         "m": "именуемый", "f": "именуемая"}
ACTING_GEN = {"m": "действующего", "f": "действующей"}
ACTING_NOM = {"m": "действующий", "f": "действующая"}
ACTING_ORG = {"neut": "действующее", "masc": "действующий", "femn": "действующая"}


# the «Пол» custom field of a person client (clientplus_core.records.custom_fields)
_PERSON_GENDER = {"Мужской": "m", "Женский": "f"}


def signatory_gender(party: Mapping[str, Any]) -> str:
    """``"m"`` / ``"f"``: as chosen on the card (``director_gender``), else a person
    client's «Пол» field, else told from the signatory's name (:func:`gender`)."""
    chosen = str(party.get("director_gender") or "")
    if chosen in ("m", "f"):
        return chosen
    extra = party.get("extra")
    if party.get("kind") == "person" and isinstance(extra, Mapping) \
            and extra.get("gender") in _PERSON_GENDER:
        return _PERSON_GENDER[str(extra["gender"])]
    fio = person_name(party)
    return gender(fio) if fio else "m"


def party_words(party: Mapping[str, Any]) -> dict[str, str]:
    """The contract's words for a party (a client row or the company settings):

    ``party`` («Общество … «Продавец»», «Индивидуальный предприниматель Петров Пётр
    Петрович», or a person's name), ``named`` («именуемое» …), ``director_post_gen``,
    ``director_name_gen`` (the override fields when filled), ``basis`` («Устава» …),
    ``acting`` («действующего» / «действующей» / «действующий» / «действующая»: the
    gender chosen on the card (``director_gender``) or told from the name) and
    ``signatory`` («в лице Генерального директора Иванова Ивана Ивановича, действующего
    на основании Устава»; «действующий на основании записи в ЕГРИП ОГРНИП …» for an
    ИП; empty for a person).
    """
    kind = str(party.get("kind") or "legal")
    fio = person_name(party)
    who = signatory_gender(party)
    post = str(party.get("director_post") or "").strip()
    post_gen = str(party.get("director_post_gen") or "").strip() or decline_post(post)
    name_gen = str(party.get("director_name_gen") or "").strip() or decline_name(fio, who)
    basis = str(party.get("basis") or "").strip()
    ogrn = str(party.get("ogrn") or "").strip()
    if kind == "ip":
        basis = basis or ("записи в ЕГРИП" + (f" ОГРНИП {ogrn}" if ogrn else ""))
        acting = ACTING_NOM[who]
        return {"party": f"Индивидуальный предприниматель {fio}".strip(),
                "named": NAMED[who], "director_post_gen": post_gen,
                "director_name_gen": name_gen, "basis": basis, "acting": acting,
                "signatory": f"{acting} на основании {basis}"}
    if kind == "person":
        return {"party": fio or str(party.get("name") or ""), "named": NAMED[who],
                "director_post_gen": post_gen, "director_name_gen": name_gen,
                "basis": basis, "acting": ACTING_NOM[who],
                "signatory": f"{ACTING_NOM[who]} на основании {basis}" if basis else ""}
    basis = basis or "Устава"
    acting = ACTING_GEN[who]
    full = str(party.get("full_name") or party.get("name") or "")
    org = _org_gender(full)
    face = " ".join(x for x in (post_gen, name_gen) if x)
    signatory = (f"в лице {face}, {acting} на основании {basis}" if face
                 else f"{ACTING_ORG[org]} на основании {basis}")
    return {"party": full, "named": NAMED[org], "director_post_gen": post_gen,
            "director_name_gen": name_gen, "basis": basis, "acting": acting,
            "signatory": signatory}


def automatic(party: Mapping[str, Any]) -> dict[str, str]:
    """What ``director_post_gen``, ``director_name_gen`` and ``basis`` come out as when
    left empty (a form shows it greyed in the empty field)."""
    words = party_words({**party, "director_post_gen": "", "director_name_gen": "",
                         "basis": ""})
    return {k: words[k] for k in ("director_post_gen", "director_name_gen", "basis")}
