"""Name the project's GitHub repository in every notebook and in README.md: `python -m gamlib.publish`.

    python scripts/publish.py --repo https://github.com/OWNER/REPO [--branch main] | --sync | --unpublish

The command README.md and the notebooks' set-up cell name; gamlib/publish.py says what it writes.
"""
import sys

from gamlib.publish import main

if __name__ == "__main__":
    sys.exit(main())
