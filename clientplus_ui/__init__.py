"""Shared Streamlit pieces: context (store, actor, page guard), i18n, widgets.

Pages import from here and from ``clientplus_core``; cache decorators live only
in this package.
"""

from clientplus_ui.context import current_actor, get_store, guard
from clientplus_ui.i18n import lang, tr

__all__ = ["current_actor", "get_store", "guard", "lang", "tr"]
