"""Settings: backups (create, list, download, verify, restore) and the "about" block.

Uploaded archives are kept in ``st.session_state`` as ``(filename, bytes)`` under
:data:`VERIFY_UPLOAD_KEY` and :data:`RESTORE_UPLOAD_KEY` (tests set these keys
directly: AppTest cannot drive a file uploader).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

import clientplus_core
from clientplus_core.base.errors import UserError
from clientplus_core.maintenance import backup
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import human_size, md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_dt, kept_upload, show_error

VERIFY_UPLOAD_KEY = "settings.verify_upload"
RESTORE_UPLOAD_KEY = "settings.restore_upload"
LAST_BACKUP_KEY = "settings.backup.last"
ZIP_MIME = "application/zip"


def list_backups(store: Store) -> list[Path]:
    """The .zip files in the data folder's ``backups/``, newest first."""
    folder = store.data_dir.backups_dir
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)


def _uploader(label: str, key: str) -> tuple[str, bytes] | None:
    """A .zip uploader that keeps ``(filename, bytes)`` in session state under ``key``."""
    return kept_upload(label, key, ["zip"])


def _with_temp_zip(upload: tuple[str, bytes], fn: Any) -> Any:
    with tempfile.TemporaryDirectory(prefix="clientplus-") as tmp:
        path = Path(tmp) / "backup.zip"
        path.write_bytes(upload[1])
        return fn(path)


def backups_section(store: Store, actor: Actor) -> None:
    if not can(actor, "backup"):
        st.info(tr("Резервными копиями управляет только администратор.",
                   "Only an administrator manages backups."))
        return
    _create(store, actor)
    _listing(store)
    st.divider()
    _verify()
    st.divider()
    _restore(store)


def _create(store: Store, actor: Actor) -> None:
    st.markdown("**" + tr("Создать копию", "Create a backup") + "**")
    st.caption(tr("В архив попадают база данных и все прикреплённые файлы; копия сохраняется "
                  "в папку backups/ рядом с данными.",
                  "The archive holds the database and every attached file; it is saved in "
                  "the backups/ folder next to the data."))
    if st.button(tr("Создать резервную копию", "Create a backup"), key="settings.backup.create",
                 type="primary", icon=":material/backup:"):
        out = backup.default_backup_path(store)
        try:
            with st.spinner(tr("Создаю резервную копию…", "Creating the backup…")):
                manifest = backup.create_backup(store, actor, out)
        except UserError as exc:
            show_error(exc)
        else:
            st.session_state[LAST_BACKUP_KEY] = (str(out), len(manifest.get("members", [])),
                                                 list(manifest.get("warnings", [])))
    last = st.session_state.get(LAST_BACKUP_KEY)
    if last and Path(last[0]).is_file():
        path = Path(last[0])
        st.success(tr(f"Копия создана: {path.name} (файлов в архиве: {last[1]}).",
                      f"Backup created: {path.name} (files in the archive: {last[1]})."))
        if last[2]:
            st.warning(tr("При копировании найдены проблемы в хранилище файлов:",
                          "Problems found in the file store while copying:") + "\n\n"
                       + "\n".join(f"- {md_escape(w)}" for w in last[2]))
        st.download_button(tr("Скачать ", "Download ") + path.name, partial(path.read_bytes),
                           file_name=path.name, mime=ZIP_MIME, on_click="ignore",
                           key="settings.backup.last_download", icon=":material/download:")


def _listing(store: Store) -> None:
    st.markdown("**" + tr("Копии в папке данных", "Backups in the data folder") + "**")
    paths = list_backups(store)
    if not paths:
        st.caption(tr("Копий пока нет.", "No backups yet."))
        return
    for i, path in enumerate(paths):
        stat = path.stat()
        c1, c2, c3, c4 = st.columns([4, 2, 2, 2], vertical_alignment="center")
        c1.text(path.name)
        c2.text(human_size(stat.st_size))
        c3.text(fmt_dt(datetime.fromtimestamp(stat.st_mtime, UTC)))
        c4.download_button(tr("Скачать", "Download"), partial(path.read_bytes),
                           file_name=path.name, mime=ZIP_MIME, on_click="ignore",
                           key=f"settings.backup.dl.{i}.{path.name}", icon=":material/download:")


def _verify() -> None:
    st.markdown("**" + tr("Проверить копию", "Verify a backup") + "**")
    upload = _uploader(tr("Архив резервной копии (.zip)", "Backup archive (.zip)"),
                       VERIFY_UPLOAD_KEY)
    if not upload:
        return
    sig = (upload[0], len(upload[1]))
    cached = st.session_state.get("settings.verify_result")
    if not cached or cached[0] != sig:
        try:
            with st.spinner(tr("Проверяю архив…", "Verifying the archive…")):
                result = _with_temp_zip(upload, backup.verify_backup)
        except UserError as exc:
            show_error(exc)
            return
        cached = (sig, result)
        st.session_state["settings.verify_result"] = cached
    result = cached[1]
    name = md_escape(upload[0])
    if result.ok:
        st.success(tr(f"Копия {name} в порядке: проверено файлов — {result.members}, "
                      "контрольные суммы совпадают.",
                      f"Backup {name} is fine: {result.members} files checked, checksums match."))
    else:
        st.error(tr(f"Копия {name} повреждена:", f"Backup {name} is damaged:") + "\n\n"
                 + "\n".join(f"- {md_escape(p)}" for p in result.problems))


def _restore(store: Store) -> None:
    st.markdown("**" + tr("Восстановить", "Restore") + "**")
    st.caption(tr("Копия разворачивается в новую пустую папку; текущие данные не меняются. "
                  "Затем запустите программу с этой папкой.",
                  "The backup is unpacked into a new empty folder; current data stay as they "
                  "are. Then start the app with that folder."))
    upload = _uploader(tr("Архив для восстановления (.zip)", "Archive to restore (.zip)"),
                       RESTORE_UPLOAD_KEY)
    target = st.text_input(tr("Папка для восстановления (пустая или новая)",
                              "Folder to restore into (empty or new)"),
                           key="settings.restore.target", placeholder="/home/user/clientplus-data")
    sure = st.checkbox(tr("Понимаю: данные из копии будут развёрнуты в эту папку",
                          "I understand: the backup's data will be unpacked into this folder"),
                       key="settings.restore.confirm")
    clicked = st.button(tr("Восстановить", "Restore"), key="settings.restore.run",
                        disabled=not (upload and target.strip() and sure),
                        icon=":material/settings_backup_restore:")
    if not (clicked and upload and target.strip() and sure):
        return
    folder = Path(target.strip()).expanduser().resolve()
    if folder == store.data_dir.root:
        st.error(tr("Это папка, с которой программа работает сейчас. Укажите другую.",
                    "The app is using this folder now. Choose another one."))
        return
    try:
        with st.spinner(tr("Восстанавливаю…", "Restoring…")):
            counts = _with_temp_zip(upload, lambda p: backup.restore_backup(p, folder))
    except (UserError, OSError) as exc:
        show_error(exc if isinstance(exc, UserError) else UserError(str(exc)))
        return
    st.success(tr(f"Копия восстановлена в папку {md_escape(folder)}. Запустите программу "
                  "с этой папкой:",
                  f"The backup is restored into {md_escape(folder)}. Start the app with "
                  "this folder:"))
    st.code(f'CLIENTPLUS_DATA="{folder}" streamlit run serve.py', language="bash")
    st.caption(tr("В копии: клиентов {clients}, контактов {contacts}, файлов {files}.",
                  "In the backup: {clients} clients, {contacts} contacts, {files} files.")
               .format(**{k: counts.get(k, 0) for k in ("clients", "contacts", "files")}))


def about_section(store: Store) -> None:
    """Read-only facts: where the data are, how big the database is, which version runs."""
    dd = store.data_dir
    db_size = sum(p.stat().st_size for p in (dd.db_path, Path(str(dd.db_path) + "-wal"))
                  if p.exists())
    st.markdown("**" + tr("О программе", "About") + "**")
    rows = [(tr("Версия ClientPlus", "ClientPlus version"), clientplus_core.__version__, False),
            (tr("Папка данных", "Data folder"), str(dd.root), True),
            (tr("База данных", "Database"), f"{dd.db_path.name} · {human_size(db_size)}", False),
            (tr("Резервные копии", "Backups"), str(dd.backups_dir), True)]
    for label, value, copyable in rows:
        c1, c2 = st.columns([1, 3], vertical_alignment="center")
        c1.markdown(f"**{label}**")
        if copyable:  # a path the admin may want to copy
            c2.code(value, language=None)
        else:
            c2.text(value)
