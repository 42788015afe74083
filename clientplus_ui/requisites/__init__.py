"""Requisites widgets: look-up on the card, batch refresh."""
