"""Field catalogue: names, Russian and English labels, length limits.

Pages build forms and column headers from here, import auto-maps columns with
the synonyms, and validation messages name fields by these labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldSpec:
    name: str
    ru: str
    en: str
    max_len: int = 1000
    synonyms: tuple[str, ...] = field(default_factory=tuple)


CLIENT_KINDS = {"legal": ("Юр. лицо", "Company"), "ip": ("ИП", "Sole proprietor"),
                "person": ("Физ. лицо", "Person")}

CLIENT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("kind", "Тип", "Kind", 20, ("вид", "тип клиента", "type", "client type")),
    FieldSpec("name", "Наименование", "Name", 300,
              ("название", "клиент", "компания", "организация", "фио", "contractor", "company",
               "client", "organization", "краткое наименование")),
    FieldSpec("full_name", "Полное наименование", "Full name", 1000,
              ("полное название", "полное наименование организации", "legal name")),
    FieldSpec("inn", "ИНН", "INN", 20, ("инн клиента", "tin", "tax id", "taxpayer id")),
    FieldSpec("kpp", "КПП", "KPP", 20, ()),
    FieldSpec("ogrn", "ОГРН / ОГРНИП", "OGRN", 20, ("огрн", "огрнип", "psrn")),
    FieldSpec("okved", "ОКВЭД", "OKVED", 20, ("вид деятельности", "activity code")),
    FieldSpec("legal_address", "Юридический адрес", "Legal address", 1000,
              ("юр. адрес", "юр адрес", "адрес", "address", "registered address")),
    FieldSpec("postal_address", "Почтовый адрес", "Postal address", 1000,
              ("фактический адрес", "mailing address")),
    FieldSpec("postal_index", "Индекс", "Postal code", 10,
              ("почтовый индекс", "zip", "postcode", "postal code")),
    FieldSpec("bik", "БИК", "BIK", 20, ("бик банка", "bic")),
    FieldSpec("bank_name", "Банк", "Bank", 300, ("наименование банка", "bank name")),
    FieldSpec("corr_account", "Корр. счёт", "Corr. account", 30,
              ("корр счет", "к/с", "кор. счет", "корреспондентский счет", "correspondent account")),
    FieldSpec("account", "Расчётный счёт", "Settlement account", 30,
              ("р/с", "расчетный счет", "счет", "bank account", "account number")),
    FieldSpec("director_post", "Должность руководителя", "Director's post", 200,
              ("должность", "director title")),
    FieldSpec("director_name", "Руководитель", "Director", 300,
              ("фио руководителя", "директор", "генеральный директор", "director", "ceo")),
    # the genitive forms for «в лице …» when the automatic declension is wrong, and the
    # basis of the authority (clientplus_core.sales.signatory)
    FieldSpec("director_post_gen", "Должность руководителя (кого?)", "Director's post (genitive)",
              200, ("должность в родительном падеже",)),
    FieldSpec("director_name_gen", "Руководитель (кого?)", "Director (genitive)", 300,
              ("в лице", "фио в родительном падеже")),
    FieldSpec("basis", "Действует на основании", "Acting on the basis of", 300,
              ("на основании", "основание полномочий")),
    FieldSpec("director_gender", "Пол руководителя", "Director's gender", 10,
              ("пол руководителя", "пол подписанта")),
    FieldSpec("phone", "Телефон", "Phone", 40, ("тел", "тел.", "телефон клиента", "phone number",
                                                "telephone", "мобильный")),
    FieldSpec("email", "E-mail", "E-mail", 254, ("почта", "эл. почта", "электронная почта", "email",
                                                  "e-mail адрес", "mail")),
    FieldSpec("website", "Сайт", "Website", 500, ("веб-сайт", "site", "web", "url")),
    FieldSpec("source", "Источник", "Source", 200, ("откуда узнал", "канал", "lead source")),
    FieldSpec("tags", "Метки", "Tags", 1000, ("теги", "тэги", "labels", "tag")),
    FieldSpec("notes", "Примечания", "Notes", 20000, ("комментарий", "заметки", "примечание",
                                                     "comment", "comments", "note")),
)

# the signatory's gender as chosen on a card (empty: told from the name)
GENDERS = {"m": ("муж.", "male"), "f": ("жен.", "female")}
_GENDER_WORDS = {"m": "m", "м": "m", "муж": "m", "муж.": "m", "мужской": "m", "male": "m",
                 "f": "f", "ж": "f", "жен": "f", "жен.": "f", "женский": "f", "female": "f"}


def check_gender(value: str) -> str:
    """``m`` / ``f`` / ``""`` from what a person or a spreadsheet writes («муж.», «Ж»,
    «женский», «male»); ValueError for anything else."""
    text = str(value or "").strip().lower()
    if not text:
        return ""
    if text not in _GENDER_WORDS:
        raise ValueError("укажите «муж.» или «жен.» (или оставьте пустым)")
    return _GENDER_WORDS[text]


CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", "ФИО", "Name", 300, ("контактное лицо", "сотрудник", "contact", "full name")),
    FieldSpec("post", "Должность", "Post", 200, ("position", "title", "job title")),
    FieldSpec("phone", "Телефон", "Phone", 40, ("рабочий телефон", "work phone")),
    FieldSpec("mobile", "Мобильный", "Mobile", 40, ("мобильный телефон", "сотовый", "cell")),
    FieldSpec("email", "E-mail", "E-mail", 254, ("почта", "email")),
    FieldSpec("messenger", "Мессенджер", "Messenger", 200, ("telegram", "whatsapp", "телеграм")),
    FieldSpec("birthday", "День рождения", "Birthday", 10, ("дата рождения", "birth date")),
    FieldSpec("consent_email", "Согласие на e-mail", "E-mail consent", 5, ()),
    FieldSpec("consent_sms", "Согласие на SMS", "SMS consent", 5, ()),
    FieldSpec("notes", "Примечания", "Notes", 5000, ("комментарий", "notes")),
)


def label(specs: tuple[FieldSpec, ...], name: str, lang: str = "ru") -> str:
    for s in specs:
        if s.name == name:
            return s.ru if lang == "ru" else s.en
    return name


def spec(specs: tuple[FieldSpec, ...], name: str) -> FieldSpec:
    for s in specs:
        if s.name == name:
            return s
    raise KeyError(name)
