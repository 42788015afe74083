"""Organizer widgets: tasks."""
