"""Outreach: consent register, address books, mailings over SMTP, phone lists."""
