"""The scorecard of README.md: every claim of the paper, its evidence and ours, and a verdict by a stated rule.

    python scripts/scorecard.py            # print the scorecard (Markdown) from the committed records
    python scripts/scorecard.py --readme   # rewrite README.md's scorecard (between its scorecard markers)

Built from the records committed under results/ (the presets in gamlib.analysis.scorecard.SCORECARD_PRESETS,
cpu and paper) and the receptive-field probe of each preset's shape, run live (gamlib.memory_reach, seconds).
tests/analysis/test_scorecard.py fails when README.md's table differs from what this prints, so run
`--readme` after new records land. The rules: gamlib/analysis/scorecard.py and notebook 13.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gamlib import committed_records, memory_reach, scorecard, scorecard_markdown
from gamlib.analysis.scorecard import SCORECARD_PRESETS

CHECKOUT = Path(__file__).resolve().parents[1]
README_BEGIN, README_END = "<!-- scorecard:begin -->", "<!-- scorecard:end -->"


def readme_table(presets=SCORECARD_PRESETS) -> str:
    """The Markdown table README.md shows: the committed records of `presets` and each preset's probe."""
    card = scorecard(committed_records(), reach=[memory_reach(preset) for preset in presets], presets=presets)
    return scorecard_markdown(card)


def readme_block(text: str) -> str:
    """What README.md holds between its scorecard markers (ValueError when they are missing)."""
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {README_BEGIN} ... {README_END}")
    return text[start + len(README_BEGIN):end].strip("\n")


def put_readme_block(text: str, block: str) -> str:
    readme_block(text)  # the markers exist
    start, end = text.find(README_BEGIN), text.find(README_END)
    return text[: start + len(README_BEGIN)] + "\n" + block + "\n" + text[end:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="rewrite README.md's scorecard instead of printing it")
    parser.add_argument("--root", type=Path, default=CHECKOUT, help=argparse.SUPPRESS)  # tests: a copy
    args = parser.parse_args(argv)
    table = readme_table()
    if not args.readme:
        print(table)
        return 0
    readme = args.root / "README.md"
    text = readme.read_text(encoding="utf-8")
    try:
        new = put_readme_block(text, table)
    except ValueError as error:
        parser.error(str(error))
    if new == text:
        print("README.md's scorecard is up to date")
    else:
        readme.write_text(new, encoding="utf-8")
        print(f"wrote the scorecard into {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
