"""The ``clientplus`` command: thin over the core, one module per command group."""
