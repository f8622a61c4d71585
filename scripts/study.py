"""A study in one command (Tables 1, 2 and 3 of a preset, resumable): `python scripts/study.py --help`.

The command lives in gamlib.study_command (installed as `gam-study`); this file runs it from a checkout.
"""
import sys

from gamlib.study_command import main

if __name__ == "__main__":
    sys.exit(main())
