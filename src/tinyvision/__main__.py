"""`python -m tinyvision` behaves exactly like the `tinyvision` console script."""

from tinyvision.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
