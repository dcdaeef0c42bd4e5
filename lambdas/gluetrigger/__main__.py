"""``python -m gluetrigger``: the same CLI as the ``gluetrigger`` command."""

from __future__ import annotations

import sys

from gluetrigger.tooling.cli import main

sys.exit(main())
