"""``python -m plugin``: the command-line entry point."""

from plugin.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
