"""ClientPlus core: the CRM itself, with no Streamlit import anywhere.

Every use-case function takes its storage (:class:`~clientplus_core.store.db.Store`) and
the acting user (:class:`~clientplus_core.team.access.Actor`) as arguments, so the
pages, the CLI and the tests call exactly the same code.
"""

__version__ = "0.1.0"
