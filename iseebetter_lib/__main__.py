"""`python -m iseebetter_lib` is the `iseebetter` command."""

from iseebetter_lib.cli import main

raise SystemExit(main())
