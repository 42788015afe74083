"""The bin: deleted clients, restorable by the head and the administrator."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.team.admin import bin_view

actor = guard("client.restore")
st.title(tr("Корзина", "Bin"))
bin_view(get_store(), actor)
