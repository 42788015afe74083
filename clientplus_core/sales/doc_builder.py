"""The shipped document templates, built with python-docx (Jinja tags as text)."""

from __future__ import annotations

import io
from typing import Any

from clientplus_core.sales.doc_templates import check_kind

# --- the shipped templates (python-docx) ------------------------------------------------


def _builder() -> Any:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    d = docx.Document()
    for section in d.sections:
        section.left_margin = section.right_margin = Cm(1.5)
        section.top_margin = section.bottom_margin = Cm(1.5)
    style = d.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(9)
    style.paragraph_format.space_after = Pt(2)
    return d, WD_ALIGN_PARAGRAPH, Pt, Cm


def _p(d: Any, text: str, bold: bool = False, size: int | None = None,
       align: Any = None, space_after: int | None = None) -> Any:
    from docx.shared import Pt

    para = d.add_paragraph()
    run = para.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align is not None:
        para.alignment = align
    if space_after is not None:
        para.paragraph_format.space_after = Pt(space_after)
    return para


def _cell(cell: Any, text: str, bold: bool = False, align: Any = None) -> None:
    cell.text = ""
    para = cell.paragraphs[0]
    run = para.add_run(text)
    run.bold = bold
    if align is not None:
        para.alignment = align


def _lines_table(d: Any, align: Any, with_discount: bool = True) -> None:
    """The specification: header, a ``{%tr for %}`` row pair, column widths."""
    from docx.shared import Cm

    cols = [("№", "no", 0.8), ("Товары (работы, услуги)", "name", 7.2),
            ("Кол-во", "qty", 1.6), ("Ед.", "unit", 1.2), ("Цена", "price", 2.4)]
    if with_discount:
        cols.append(("Скидка, %", "discount", 1.6))
    cols.append(("Сумма", "amount", 2.6))
    t = d.add_table(rows=4, cols=len(cols))
    t.style = "Table Grid"
    for i, (head, key, width) in enumerate(cols):
        right = align.RIGHT if key in ("qty", "price", "discount", "amount") else None
        _cell(t.rows[0].cells[i], head, bold=True, align=align.CENTER)
        _cell(t.rows[2].cells[i], "{{ line." + key + " }}", align=right)
        for r in t.rows:
            r.cells[i].width = Cm(width)
    _cell(t.rows[1].cells[0], "{%tr for line in lines %}")
    _cell(t.rows[3].cells[0], "{%tr endfor %}")


def _totals_table(d: Any, align: Any) -> None:
    """Итого / НДС per rate (a ``{%tr for %}`` over ``totals.vat_lines``) / Всего к оплате."""
    from docx.shared import Cm

    t = d.add_table(rows=5, cols=2)
    t.alignment = 2  # right
    rows = [("Итого:", "{{ totals.subtotal }}"), ("{%tr for v in totals.vat_lines %}", ""),
            ("{{ v.caption }}:", "{{ v.amount }}"), ("{%tr endfor %}", ""),
            ("Всего к оплате:", "{{ totals.total }}")]
    for r, (a, b) in zip(t.rows, rows, strict=True):
        _cell(r.cells[0], a, bold=True, align=align.RIGHT)
        _cell(r.cells[1], b, bold=True, align=align.RIGHT)
        r.cells[0].width = Cm(6)
        r.cells[1].width = Cm(3)


def _signatures(d: Any, left: tuple[str, str], right: tuple[str, str],
                posts: tuple[str, str] | None = None) -> None:
    """Two signature blocks: a caption, the signer's post (``posts``, when given) and
    «_______________ / Фамилия И. О.»."""
    t = d.add_table(rows=3 if posts else 2, cols=2)
    _cell(t.rows[0].cells[0], left[0], bold=True)
    _cell(t.rows[0].cells[1], right[0], bold=True)
    if posts:
        _cell(t.rows[1].cells[0], posts[0])
        _cell(t.rows[1].cells[1], posts[1])
    _cell(t.rows[-1].cells[0], f"_______________ / {left[1]}")
    _cell(t.rows[-1].cells[1], f"_______________ / {right[1]}")


def _requisites_table(d: Any) -> None:
    """Both parties' requisites side by side; a line whose value is empty (no phone, no
    bank) is left out whole (a ``{%p if %}`` paragraph pair around it)."""
    t = d.add_table(rows=2, cols=2)
    t.style = "Table Grid"
    _cell(t.rows[0].cells[0], "Поставщик (Исполнитель)", bold=True)
    _cell(t.rows[0].cells[1], "Покупатель (Заказчик)", bold=True)
    for i, who in enumerate(("seller", "buyer")):
        c = t.rows[1].cells[i]
        c.text = ""
        ogrn = f"{{{{ {who}.ogrn_label }}}} {{{{ {who}.ogrn }}}}"
        optional = [("inn_kpp", f"{{{{ {who}.inn_kpp }}}}"), ("ogrn", ogrn),
                    ("address", f"Адрес: {{{{ {who}.address }}}}"),
                    ("account", f"Р/с {{{{ {who}.account }}}}"),
                    ("bank_name", f"в {{{{ {who}.bank_name }}}}"),
                    ("bik", f"БИК {{{{ {who}.bik }}}}"),
                    ("corr_account", f"К/с {{{{ {who}.corr_account }}}}"),
                    ("phone", f"Тел.: {{{{ {who}.phone }}}}"),
                    ("email", f"E-mail: {{{{ {who}.email }}}}")]
        c.paragraphs[0].add_run(f"{{{{ {who}.full_name }}}}")
        for key, text in optional:
            c.add_paragraph(f"{{%p if {who}.{key} %}}")
            c.add_paragraph(text)
            c.add_paragraph("{%p endif %}")
        c.add_paragraph("")
        c.add_paragraph(f"{{{{ {who}.signer_post }}}}")
        c.add_paragraph(f"_______________ / {{{{ {who}.director_short }}}}")


def _preamble(role_seller: str, role_buyer: str, tail: str) -> str:
    """«<party>, именуемое в дальнейшем «…», в лице …, действующего на основании …, с
    одной стороны, и <party>, …, с другой стороны, <tail>»."""
    def side(who: str, role: str) -> str:
        return (f"{{{{ {who}.party }}}}, {{{{ {who}.named }}}} в дальнейшем «{role}»"
                f"{{% if {who}.signatory %}}, {{{{ {who}.signatory }}}}{{% endif %}}")
    return (f"{side('seller', role_seller)}, с одной стороны, и {side('buyer', role_buyer)},"
            f" с другой стороны, {tail}")


def build_default_template(kind: str) -> bytes:
    """Build the shipped template of ``kind`` with python-docx (Jinja tags as text)."""
    check_kind(kind)
    d, align, _pt, cm = _builder()
    if kind == "invoice":
        _p(d, "{{ seller.name }}", bold=True, size=11)
        _p(d, "{{ seller.address }}{% if seller.phone %}, тел. {{ seller.phone }}{% endif %}",
           space_after=8)
        bank = d.add_table(rows=5, cols=4)
        bank.style = "Table Grid"
        cells = [
            ("{{ seller.bank_name }}", None, "БИК", "{{ seller.bik }}"),
            ("Банк получателя", None, "Сч. №", "{{ seller.corr_account }}"),
            ("ИНН {{ seller.inn }}", "КПП {{ seller.kpp }}", "Сч. №", "{{ seller.account }}"),
            ("{{ seller.full_name }}", None, "", ""),
            ("Получатель", None, "", ""),
        ]
        for r, values in zip(bank.rows, cells, strict=True):
            for i, v in enumerate(values):
                if v is not None:
                    _cell(r.cells[i], v)
            if values[1] is None:
                r.cells[0].merge(r.cells[1])
        for r in bank.rows:
            for i, w in enumerate((5.0, 4.6, 1.6, 6.0)):
                r.cells[i].width = cm(w)
        _p(d, "", space_after=4)
        _p(d, "Счёт на оплату № {{ doc.number }} от {{ doc.date_words }}", bold=True, size=14,
           space_after=6)
        _p(d, "Поставщик (Исполнитель): {{ seller.requisites }}")
        _p(d, "Покупатель (Заказчик): {{ buyer.requisites }}")
        _p(d, "Основание: {{ sale.basis }}", space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Всего наименований {{ totals.count }}, на сумму {{ totals.total }} руб.")
        _p(d, "{{ totals.words }}", bold=True, space_after=10)
        _p(d, "Оплата данного счёта означает согласие с условиями поставки товара (оказания"
              " услуг). Счёт действителен до {{ doc.valid_until }}.", space_after=10)
        _signatures(d, ("Руководитель", "{{ seller.director_short }}"),
                    ("Бухгалтер", "{{ seller.accountant_short }}"))
    elif kind == "offer":
        _p(d, "{{ seller.name }}", bold=True, size=11)
        _p(d, "{{ seller.inn_kpp }}, {{ seller.address }}", space_after=2)
        _p(d, "{%p if seller.phone or seller.email %}")
        _p(d, "{% if seller.phone %}тел. {{ seller.phone }}{% endif %}{% if seller.phone and"
              " seller.email %}, {% endif %}{{ seller.email }}", space_after=10)
        _p(d, "{%p endif %}")
        _p(d, "Кому: {{ buyer.name }}{% if contact.name %}, {{ contact.post }}"
              " {{ contact.name }}{% endif %}", align=align.RIGHT, space_after=10)
        _p(d, "Коммерческое предложение № {{ doc.number }} от {{ doc.date }}", bold=True,
           size=14, align=align.CENTER)
        _p(d, "{{ sale.title }}", align=align.CENTER, space_after=8)
        _p(d, "Благодарим за интерес к нашей компании! Предлагаем вам следующие товары и"
              " услуги:", space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Итого к оплате: {{ totals.total }} руб. ({{ totals.words }})", bold=True,
           space_after=8)
        _p(d, "Предложение действительно до {{ doc.valid_until }}.")
        _p(d, "Ответственный менеджер: {{ manager.name }}{% if manager.email %},"
              " {{ manager.email }}{% endif %}", space_after=12)
        _p(d, "{{ seller.signer_post }} _______________ {{ seller.director_short }}")
    elif kind == "contract":
        _p(d, "ДОГОВОР № {{ doc.number }}", bold=True, size=13, align=align.CENTER)
        _p(d, "{{ doc.date_words }}", align=align.RIGHT, space_after=8)
        _p(d, _preamble("Поставщик", "Покупатель",
                        "заключили настоящий договор о нижеследующем:"), space_after=6)
        _p(d, "1. ПРЕДМЕТ ДОГОВОРА", bold=True)
        _p(d, "1.1. Поставщик обязуется передать Покупателю товары (оказать услуги), указанные"
              " в спецификации, а Покупатель — принять и оплатить их.", space_after=4)
        _p(d, "Спецификация", bold=True, align=align.CENTER, space_after=4)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "2. ЦЕНА И ПОРЯДОК РАСЧЁТОВ", bold=True)
        _p(d, "2.1. Общая стоимость по договору составляет {{ totals.total }} руб."
              " ({{ totals.words }}), {{ totals.vat_sentence }}")
        _p(d, "2.2. Оплата производится по графику:")
        sched = d.add_table(rows=4, cols=4)
        sched.style = "Table Grid"
        for i, (head, key) in enumerate((("№", "no"), ("Дата платежа", "date"),
                                         ("Сумма, руб.", "amount"), ("Примечание", "note"))):
            _cell(sched.rows[0].cells[i], head, bold=True, align=align.CENTER)
            _cell(sched.rows[2].cells[i], "{{ p." + key + " }}")
        _cell(sched.rows[1].cells[0], "{%tr for p in schedule %}")
        _cell(sched.rows[3].cells[0], "{%tr endfor %}")
        _p(d, "Если график не заполнен, оплата производится в течение 5 (пяти) банковских"
              " дней с даты выставления счёта.", space_after=6)
        _p(d, "3. СРОКИ", bold=True)
        _p(d, "3.1. Обязательства Поставщика исполняются до {{ doc.valid_until }}.",
           space_after=6)
        _p(d, "4. ПРОЧИЕ УСЛОВИЯ", bold=True)
        _p(d, "4.1. Споры разрешаются путём переговоров, а при недостижении согласия — в"
              " арбитражном суде по месту нахождения Поставщика.")
        _p(d, "4.2. Договор составлен в двух экземплярах, имеющих равную юридическую силу.",
           space_after=6)
        _p(d, "5. РЕКВИЗИТЫ И ПОДПИСИ СТОРОН", bold=True)
        _requisites_table(d)
    else:  # act
        _p(d, "Акт № {{ doc.number }} от {{ doc.date_words }}", bold=True, size=14,
           space_after=6)
        _p(d, "Исполнитель: {{ seller.requisites }}")
        _p(d, "Заказчик: {{ buyer.requisites }}")
        _p(d, "Основание: {{ sale.basis }}", space_after=6)
        _p(d, _preamble("Исполнитель", "Заказчик", "составили настоящий акт о том, что"
                        " Исполнитель оказал следующие услуги (передал товары):"),
           space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Всего оказано услуг (отгружено товаров) {{ totals.count }}, на сумму"
              " {{ totals.total }} руб.")
        _p(d, "{{ totals.words }}", bold=True, space_after=8)
        _p(d, "Вышеперечисленные услуги выполнены (товары переданы) полностью и в срок."
              " Заказчик претензий по объёму, качеству и срокам не имеет.", space_after=12)
        _signatures(d, ("Исполнитель", "{{ seller.director_short }}"),
                    ("Заказчик", "{{ buyer.director_short }}"),
                    ("{{ seller.signer_post }}", "{{ buyer.signer_post }}"))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
