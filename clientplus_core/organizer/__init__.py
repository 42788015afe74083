"""Organizer: tasks and reminders tied to clients and sales."""
