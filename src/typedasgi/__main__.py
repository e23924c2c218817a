"""``python -m typedasgi`` is the ``typedasgi`` command."""

from typedasgi.cli import main

if __name__ == "__main__":
    main()
