"""Placeholder — being written."""

from clientplus_ui import guard

actor = guard()
