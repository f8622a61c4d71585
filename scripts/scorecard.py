"""The scorecard of README.md: every claim of the paper, its evidence and ours, and a verdict by a stated rule.

    python scripts/scorecard.py            # print the scorecard (Markdown) from the committed records
    python scripts/scorecard.py --readme   # rewrite README.md's scorecard (between its scorecard markers)

Built from the records committed under results/ (the presets in gamlib.analysis.scorecard.SCORECARD_PRESETS,
cpu and paper) and the receptive-field probe of each preset's shape, run live (gamlib.memory_reach, seconds).
tests/analysis/test_scorecard.py fails when README.md's table differs from what this prints, so run
`--readme` after new records land. The code and the rules: gamlib/analysis/scorecard.py (this is its command
line, `python -m gamlib.analysis.scorecard`) and notebook 13.
"""
from gamlib.analysis.scorecard import main

if __name__ == "__main__":
    raise SystemExit(main())
