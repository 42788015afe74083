"""The import wizard's steps: upload → column mapping → preview → check / import → report.

State lives in ``st.session_state``:

- :data:`UPLOAD_KEY` (``"import.upload"``) holds ``(filename, bytes)`` of the chosen
  file. The file uploader writes it; tests (AppTest cannot drive a file uploader)
  set it directly before ``run()``.
- :data:`STATE_KEY` holds the wizard for that file — table, mapping, last report,
  whether it was imported — keyed by the file (name + size), so reruns and
  trips to other pages keep the mapping, and a finished import is not repeated.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import import_mapping, importer, sheets
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.records import custom_fields
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.common import client_field_label, contact_field_label, md_escape
from clientplus_ui.context import get_store
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error, xlsx_download

try:  # a click that arrives mid-import must not cut the import short (see _Progress)
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException
except ImportError:  # pragma: no cover - older/newer Streamlit layout
    ScriptControlException = ()  # type: ignore[assignment,misc]

UPLOAD_KEY = "import.upload"
STATE_KEY = "import.state"
PREVIEW_ROWS = 20
DUPLICATE_MODES = importer.DUPLICATE_MODES

# None ("do not import"), then client fields, then "contact.<field>", in catalogue order.
TARGETS: tuple[str | None, ...] = (None, *import_mapping.targets())


def target_label(target: str | None) -> str:
    """A target field's label: «ИНН», «Контакт: ФИО», «— не импортировать —»."""
    if target is None:
        return tr("— не импортировать —", "— skip this column —")
    if target.startswith(import_mapping.CONTACT_PREFIX):
        return tr("Контакт: ", "Contact: ") + contact_field_label(
            target.removeprefix(import_mapping.CONTACT_PREFIX))
    if target.startswith(import_mapping.CUSTOM_PREFIX):
        custom = (st.session_state.get(STATE_KEY) or {}).get("custom") or {}
        return tr("Доп. поле: ", "Custom field: ") + custom.get(
            target, target.removeprefix(import_mapping.CUSTOM_PREFIX))
    return client_field_label(target)


def _file_key(filename: str, data: bytes) -> str:
    return f"{filename}|{len(data)}"


# -- (a) upload -------------------------------------------------------------------------------

def _on_upload() -> None:
    """A file chosen (or removed) in the uploader starts the wizard afresh."""
    st.session_state.pop(STATE_KEY, None)
    up = st.session_state.get("import.uploader")
    if up is None:
        st.session_state.pop(UPLOAD_KEY, None)
    else:
        st.session_state[UPLOAD_KEY] = (up.name, up.getvalue())


def upload_step() -> tuple[str, bytes] | None:
    """The uploader; returns the chosen ``(filename, bytes)`` or None."""
    st.file_uploader(tr("Файл Excel (.xlsx) или CSV", "Excel (.xlsx) or CSV file"),
                     type=["xlsx", "csv"], key="import.uploader", on_change=_on_upload,
                     help=tr("Первая строка — заголовки столбцов. CSV в UTF-8 или Windows-1251.",
                             "The first row holds column headers. CSV in UTF-8 or Windows-1251."))
    upload = st.session_state.get(UPLOAD_KEY)
    if not upload:
        return None
    if st.session_state.get("import.uploader") is None:
        # Came back from another page: the uploader is empty but the file is kept.
        c1, c2 = st.columns([4, 1], vertical_alignment="center")
        c1.caption(tr("Выбран файл: ", "Chosen file: ") + md_escape(upload[0]))
        if c2.button(tr("Убрать файл", "Remove file"), key="import.clear"):
            st.session_state.pop(UPLOAD_KEY, None)
            st.session_state.pop(STATE_KEY, None)
            st.rerun()
    return upload


def load(upload: tuple[str, bytes]) -> dict[str, Any] | None:
    """The wizard state for this file (read once per file); None after showing a read error."""
    filename, data = upload
    key = _file_key(filename, data)
    state = st.session_state.get(STATE_KEY)
    if not state or state.get("key") != key:
        state = {"key": key, "table": None, "error": None, "mapping": {}, "report": None,
                 "report_sig": None, "report_dry": True, "imported": False}
        try:
            with st.spinner(tr("Читаю файл…", "Reading the file…")):
                table = sheets.read_table(data, filename)
            state["table"] = table
            custom = custom_fields.list_fields(get_store(), "client")
            state["custom"] = {import_mapping.CUSTOM_PREFIX + d.key: d.label_ru for d in custom}
            state["mapping"] = dict(import_mapping.guess_mapping(table.headers, custom))
        except UserError as exc:
            state["error"] = exc
        st.session_state[STATE_KEY] = state
    if state["error"] is not None:
        show_error(state["error"])
        return None
    if not state["table"].rows:
        st.warning(tr("В файле нет строк с данными — только заголовки.",
                      "The file has no data rows — only headers."))
        return None
    return state


# -- (b) mapping, (c) preview, (d) duplicates --------------------------------------------------

def _samples(rows: list[list[Any]], col: int, n: int = 3) -> str:
    seen: list[str] = []
    for row in rows[:200]:
        v = row[col] if col < len(row) else None
        s = "" if v is None else str(v).strip()
        if s and s not in seen:
            seen.append(s[:40])
        if len(seen) >= n:
            break
    return "; ".join(seen)


def mapping_step(state: dict[str, Any]) -> dict[str, str | None]:
    """One select per source column, preselected by the guess (or the last choice)."""
    table = state["table"]
    st.subheader(tr("Сопоставление столбцов", "Column mapping"))
    st.caption(tr(f"Строк в файле: {len(table.rows)}. Для каждого столбца выберите поле CRM.",
                  f"Rows in the file: {len(table.rows)}. Pick a CRM field for each column."))
    mapping: dict[str, str | None] = {}
    labels = {t: target_label(t) for t in TARGETS}  # fixed now: format_func runs later too
    custom: dict[str, str] = state.get("custom") or {}  # custom fields: "extra.<key>"
    labels.update({t: tr("Доп. поле: ", "Custom field: ") + label for t, label in custom.items()})
    options: tuple[str | None, ...] = (*TARGETS, *custom)
    cols = st.columns(3)
    for i, header in enumerate(table.headers):
        current = state["mapping"].get(header)
        sample = _samples(table.rows, i)
        with cols[i % 3]:
            mapping[header] = st.selectbox(
                md_escape(header) or tr(f"(столбец {i + 1})", f"(column {i + 1})"),
                options, index=options.index(current) if current in options else 0,
                format_func=labels.__getitem__, key=f"import.map.{state['key']}.{i}",
                help=(tr("Например: ", "E.g.: ") + md_escape(sample)) if sample else None)
    state["mapping"] = mapping
    return mapping


def mapping_problems(mapping: dict[str, str | None]) -> list[str]:
    """What stops the import: the same field chosen twice, nothing chosen."""
    chosen = [t for t in mapping.values() if t]
    if not chosen:
        return [tr("Не выбрано ни одного поля для импорта.", "No column is mapped to a field.")]
    twice = sorted({t for t in chosen if chosen.count(t) > 1},
                   key=lambda t: TARGETS.index(t) if t in TARGETS else len(TARGETS))
    return [tr(f"Поле «{target_label(t)}» выбрано для нескольких столбцов.",
               f"Field “{target_label(t)}” is chosen for several columns.") for t in twice]


def preview(state: dict[str, Any], mapping: dict[str, str | None]) -> None:
    """The first rows with the CRM field names as headers."""
    table = state["table"]
    st.subheader(tr("Предпросмотр", "Preview"))
    picked = [(i, t) for i, h in enumerate(table.headers) if (t := mapping.get(h))]
    if not picked:
        return
    shown = table.rows[:PREVIEW_ROWS]
    data: dict[str, list[Any]] = {tr("Строка", "Row"): [table.row_number(n)
                                                         for n in range(len(shown))]}
    for i, t in picked:
        name = target_label(t)
        while name in data:
            name += " "
        data[name] = ["" if (v := (r[i] if i < len(r) else None)) is None else str(v)
                      for r in shown]
    st.dataframe(data, hide_index=True, width="stretch")
    if len(table.rows) > PREVIEW_ROWS:
        st.caption(tr(f"Показаны первые {PREVIEW_ROWS} из {len(table.rows)} строк.",
                      f"First {PREVIEW_ROWS} of {len(table.rows)} rows shown."))


def duplicates_step(state: dict[str, Any]) -> str:
    labels = {"update": tr("обновить существующую карточку", "update the existing card"),
              "skip": tr("пропустить строку", "skip the row"),
              "create": tr("создать новую карточку", "create a new card")}
    choice = st.radio(tr("Если клиент уже есть в базе (тот же ИНН, телефон или e-mail)",
                         "If the client already exists (same INN, phone or e-mail)"),
                      DUPLICATE_MODES, format_func=labels.__getitem__, horizontal=True,
                      index=DUPLICATE_MODES.index(state.get("on_duplicate", "update")),
                      key=f"import.on_duplicate.{state['key']}")
    state["on_duplicate"] = choice
    return choice


# -- (e) check / import ------------------------------------------------------------------------

class _Progress:
    """A progress bar fed by ``run_import``'s callback.

    Streamlit stops a running script at its next UI call when a new event arrives
    (e.g. a second click). Stopping inside the import would cut it short, so the
    request is held until the import has finished and its report is stored.
    """

    def __init__(self, text: str):
        self.text = text
        self.bar = st.progress(0.0, text=text)
        self.last = -1
        self.held: BaseException | None = None

    def __call__(self, done: int, total: int) -> None:
        pct = min(100, int(100 * done / total)) if total else 100
        if self.held is not None or pct == self.last:
            return
        self.last = pct
        try:
            self.bar.progress(pct / 100, text=f"{self.text} {done} / {total}")
        except ScriptControlException as exc:
            self.held = exc

    def release(self) -> None:
        if self.held is not None:
            raise self.held


def run_step(store: Store, actor: Actor, state: dict[str, Any], mapping: dict[str, str | None],
             on_duplicate: str) -> None:
    """The two buttons; runs the check or the import and stores its report."""
    problems = mapping_problems(mapping)
    for p in problems:
        st.warning(p)
    if state["imported"]:
        st.info(tr("Этот файл уже импортирован. Чтобы импортировать его снова, выберите файл "
                   "заново.", "This file has been imported. To import it again, choose the file "
                   "again."))
    row = st.container(horizontal=True)
    dry = row.button(tr("Проверить (без записи)", "Check (no changes)"), key="import.dry",
                     disabled=bool(problems), icon=":material/fact_check:")
    real = row.button(tr("Импортировать", "Import"), key="import.run", type="primary",
                      disabled=bool(problems) or state["imported"], icon=":material/upload:")
    if not (dry or real) or problems or (real and state["imported"]):
        return
    if real:
        state["imported"] = True  # before writing: a second click can never import twice
    bar = _Progress(tr("Проверяю…", "Checking…") if dry else tr("Импортирую…", "Importing…"))
    try:
        report = importer.run_import(store, actor, state["table"], mapping, dry_run=dry,
                                     on_duplicate=on_duplicate, progress=bar)
    except Exception as exc:  # a bad file never crashes the page: say what is wrong
        if real:
            state["imported"] = False
        state["report"] = None
        show_error(exc)
        bar.release()
        return
    # Store the report before any further UI call: a pending rerun must not lose it.
    state.update(report=report, report_dry=dry, report_sig=_sig(state, mapping, on_duplicate))
    if real and (report.created or report.updated):
        st.cache_data.clear()  # cached client lists and counts are stale now
    bar.release()
    if real:
        st.rerun()  # redraw with the import button off and the "already imported" note
    bar.bar.empty()


def _sig(state: dict[str, Any], mapping: dict[str, str | None], on_duplicate: str) -> tuple:
    return state["key"], tuple(mapping.items()), on_duplicate


# -- (f) report --------------------------------------------------------------------------------

def report_view(state: dict[str, Any], mapping: dict[str, str | None], on_duplicate: str) -> None:
    """Counts and the bad rows (with an Excel download) of the last check or import."""
    report = state["report"]
    if report is None:
        return
    if state["report_dry"] and state["report_sig"] != _sig(state, mapping, on_duplicate):
        st.caption(tr("Настройки изменились — проверьте файл ещё раз.",
                      "Settings changed — check the file again."))
        return
    dry = state["report_dry"]
    st.subheader(tr("Результат проверки (ничего не записано)", "Check result (nothing written)")
                 if dry else tr("Результат импорта", "Import result"))
    m = st.columns(4)
    m[0].metric(tr("Будет создано", "To create") if dry else tr("Создано", "Created"),
                report.created)
    m[1].metric(tr("Будет обновлено", "To update") if dry else tr("Обновлено", "Updated"),
                report.updated)
    m[2].metric(tr("Пропущено", "Skipped"), report.skipped)
    m[3].metric(tr("Строк с ошибками", "Rows with errors"), report.error_rows)
    if report.warnings:
        st.warning(tr("Импортировано с предупреждениями:", "Imported with warnings:") + "\n\n"
                   + "\n".join(f"- {tr('строка', 'row')} {w.row}: {md_escape(w.message)}"
                                for w in report.warnings[:20]))
    if not report.errors:
        st.success(tr("Ошибок нет.", "No errors."))
        return
    headers = [tr("Строка", "Row"), tr("Поле", "Field"), tr("Ошибка", "Error")]
    rows = [[e.row, _field_label(e.field), e.message] for e in report.errors]
    st.dataframe({h: [r[i] for r in rows] for i, h in enumerate(headers)}, hide_index=True,
                 width="stretch", column_config={
                     headers[0]: st.column_config.NumberColumn(width="small", format="%d"),
                     headers[1]: st.column_config.TextColumn(width="medium")})
    xlsx_download(tr("Скачать ошибки (Excel)", "Download errors (Excel)"),
                  rows_to_xlsx(headers, rows, sheet=tr("Ошибки", "Errors")),
                  "import_errors.xlsx", key="import.errors_xlsx")


def _field_label(field: object) -> str:
    if not field:
        return ""
    return target_label(str(field)) if field in TARGETS else str(field)
