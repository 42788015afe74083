"""Shared Streamlit pieces: context (store, actor, page guard), i18n, widgets.

Pages import from here and from ``clientplus_core``; cache decorators live only
in this package.
"""

from .context import current_actor, get_store, guard
from .i18n import lang, tr

__all__ = ["current_actor", "get_store", "guard", "lang", "tr"]
