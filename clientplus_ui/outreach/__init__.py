"""Outreach widgets: address books, mailings, consent register."""
