"""Base: what every layer shares and that knows nothing of storage — the
error types and text normalisation."""
