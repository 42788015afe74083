"""``python -m clientplus_cli``: the same as the ``clientplus`` command."""

from clientplus_cli.main import main

raise SystemExit(main())
