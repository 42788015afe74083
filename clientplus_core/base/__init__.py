"""Base: what every layer shares and that knows nothing of storage — the
error types, text normalisation and the Jinja sandbox every user template renders in."""
