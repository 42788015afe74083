"""Streamlit's own English in a Russian interface: «Drag and drop file here»,
«Limit 200MB per file», «Browse files», «Select all», «No results» and the
``dd.mm.yyyy`` placeholder of an empty date field have no parameter to change them,
so a small script in the page replaces exactly these texts while the interface is
Russian (and only them: nothing a user typed is touched)."""

from __future__ import annotations

import json
import re

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from clientplus_ui.i18n import lang

# Streamlit's text -> ours; a (regex, replacement) pair for texts with a number in them
TEXTS = {
    "Drag and drop file here": "Перетащите файл сюда",
    "Drag and drop files here": "Перетащите файлы сюда",
    "Browse files": "Выбрать файл", "Upload": "Загрузить", "Upload files": "Загрузить файлы",
    "Select all": "Выбрать все", "No results": "Ничего не найдено",
    "No options to select": "Выбирать не из чего", "Clear all": "Очистить всё",
    "Choose an option": "Выберите вариант", "Choose options": "Выберите варианты",
    "Remove file": "Убрать файл",
}
PATTERNS = [(r"^Limit (\d+)\s*MB per file(.*)$", "До $1 МБ на файл$2"),
            (r"^Select (\d+) matches$", "Выбрать найденные: $1")]
PLACEHOLDERS = {"dd.mm.yyyy": "дд.мм.гггг", "DD.MM.YYYY": "ДД.ММ.ГГГГ",
                "YYYY/MM/DD": "ГГГГ/ММ/ДД", "Type to search": "Начните вводить"}
HIDE = ('<style>div[data-testid="stElementContainer"]:has(.cp-chrome){display:none}</style>')

_SCRIPT = """
(() => {
  const doc = window.parent && window.parent.document ? window.parent.document : document;
  const on = %(on)s;
  const flip = (m) => on ? m : Object.fromEntries(Object.entries(m).map(([a, b]) => [b, a]));
  const texts = flip(%(texts)s), holders = flip(%(holders)s);
  const patterns = on ? %(patterns)s.map(([p, r]) => [new RegExp(p), r]) : [];
  const segments = flip({"dd": "дд", "mm": "мм", "yyyy": "гггг"});
  if (doc.__cpChrome) { doc.__cpChrome.disconnect(); doc.__cpChrome = null; }
  const fix = (root) => {
    const walker = doc.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.parentElement && n.parentElement.closest("input, textarea, [contenteditable]"))
        continue;
      const t = n.nodeValue.trim();
      if (!t) continue;
      let out = texts[t];
      if (out === undefined) {
        for (const [p, r] of patterns) if (p.test(t)) { out = t.replace(p, r); break; }
      }
      if (out !== undefined && out !== t) n.nodeValue = n.nodeValue.replace(t, out);
    }
    for (const el of root.querySelectorAll("input[placeholder]")) {
      const old = el.getAttribute("placeholder");
      const h = holders[old] || texts[old];
      if (h) el.setAttribute("placeholder", h);
    }
    // an empty date field shows its parts as "dd" "mm" "yyyy" placeholders
    for (const el of root.querySelectorAll('[data-placeholder="true"][data-type]')) {
      const h = segments[el.textContent];
      if (h && el.textContent !== h) el.textContent = h;
    }
  };
  fix(doc.body);  // English again: put Streamlit's own texts back, and stop
  if (!on) return;
  let queued = false;
  const obs = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    // a fix queued just before the language changed must not undo the change
    requestAnimationFrame(() => { queued = false; if (doc.__cpChrome === obs) fix(doc.body); });
  });
  obs.observe(doc.body, {childList: true, subtree: true, characterData: true,
                         attributes: true, attributeFilter: ["placeholder"]});
  doc.__cpChrome = obs;
})();
"""


def script(on: bool) -> str:
    """The page script: replace Streamlit's English texts (``on``), or put them back
    and stop."""
    return _SCRIPT % {"on": json.dumps(on), "texts": json.dumps(TEXTS, ensure_ascii=False),
                      "patterns": json.dumps(PATTERNS, ensure_ascii=False),
                      "holders": json.dumps(PLACEHOLDERS, ensure_ascii=False)}


def translate(text: str) -> str:
    """``"Limit 200MB per file • XLSX"`` -> «До 200 МБ на файл • XLSX» (the script's
    rule, in Python)."""
    t = text.strip()
    if t in TEXTS:
        return TEXTS[t]
    for pattern, repl in PATTERNS:
        if re.match(pattern, t):
            return re.sub(pattern, repl.replace("$", "\\"), t)
    return text


def localise_streamlit(slot: DeltaGenerator) -> None:
    """Put the script into the page (once per language change, hidden), into ``slot`` (an
    ``st.empty`` that exists on every run, so the page's own elements keep their places)."""
    on = lang() == "ru"
    if st.session_state.get("ui.chrome") == on:
        return
    st.session_state["ui.chrome"] = on
    slot.html(f'<span class="cp-chrome" data-on="{int(on)}" hidden></span>{HIDE}'
            f"<script>{script(on)}</script>", unsafe_allow_javascript=True)
