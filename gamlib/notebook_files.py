"""The committed notebooks as files: one JSON layout, and nothing in them that changes on every run.

    read_notebook(path), write_notebook(path, nb)   the layout nbformat writes (indent 1, sorted keys, UTF-8,
                                                    no final newline), so untouched bytes stay put
    normalise(nb)                                   drop what a run stamps and nobody reads: execution
                                                    timestamps, papermill's run metadata, saved widget state
                                                    (and the widget views that point into it); figures stored
                                                    as compact PNGs (256 colours, on white: a third the bytes)
    normalise_file(path) -> bool                    the same, in place; True when the file changed
    main_path(nb), reading_load(nb)                 the cells before the Appendix heading; their words of prose
                                                    and lines of shown code (the course's 20-minute budget)
    python -m gamlib.notebook_files NOTEBOOK...     normalise notebooks in place

The in-place series run (`python -m gamlib.series --in-place`) normalises what it writes, and a test checks
that every committed notebook is normalised, so a notebook's diff shows its sources and outputs only.
"""
from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path

CELL_RUN_METADATA = ("execution", "papermill")  # per-cell timestamps and status written by a run
NOTEBOOK_RUN_METADATA = ("papermill", "widgets")  # papermill's parameters/timings; ipywidgets' saved state
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a view of a widget model saved in that state
APPENDIX_HEADING = re.compile(r"\s*#+\s*(\d+[.\s]*)?(appendix|going deeper)", re.IGNORECASE)
WORD_BUDGET, CODE_BUDGET = 1500, 150  # a main path of about twenty minutes of reading
NOTEBOOK_BYTES, SERIES_BYTES = 400 << 10, 2560 << 10  # committed sizes: one notebook, the whole series


def read_notebook(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def notebook_text(notebook: dict) -> str:
    """The layout nbformat writes (indent 1, sorted keys, UTF-8, no final newline): committed bytes stay put."""
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True)


def write_notebook(path: Path, notebook: dict) -> None:
    Path(path).write_text(notebook_text(notebook), encoding="utf-8")


def normalise(notebook: dict) -> dict:
    """`notebook` without run metadata or widget state (changed in place and returned)."""
    for key in NOTEBOOK_RUN_METADATA:
        notebook.get("metadata", {}).pop(key, None)
    for cell in notebook.get("cells", []):
        for key in CELL_RUN_METADATA:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("outputs"):
            cell["outputs"] = [output for output in map(without_widget_view, cell["outputs"]) if output]
            for output in cell["outputs"]:
                if "image/png" in output.get("data", {}):
                    output["data"]["image/png"] = compact_png(output["data"]["image/png"])
    return notebook


def compact_png(encoded) -> str:
    """A base64 PNG as 256 colours on white (a plot's colours survive; about a third of the bytes), or as it
    was when that is no smaller or it already has a palette (so normalising twice changes nothing)."""
    from PIL import Image  # matplotlib's own dependency; imported only for notebooks with figures

    text = "".join(encoded) if isinstance(encoded, list) else encoded
    raw = base64.b64decode(text)
    image = Image.open(io.BytesIO(raw))
    if image.mode == "P":
        return text
    on_white = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA")).convert("RGB")
    buffer = io.BytesIO()
    on_white.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        buffer, format="PNG", optimize=True)
    smaller = buffer.getvalue()
    return base64.b64encode(smaller).decode("ascii") if len(smaller) < len(raw) else text


def without_widget_view(output: dict) -> dict | None:
    """The output without a widget view (its text/plain fallback stays); None when nothing else is left."""
    data = output.get("data")
    if not data or WIDGET_VIEW not in data:
        return output
    rest = {mime: value for mime, value in data.items() if mime != WIDGET_VIEW}
    return {**output, "data": rest} if rest else None


def main_path(notebook: dict) -> list[dict]:
    """The cells a learner reads before the first Appendix (or "Going deeper") heading."""
    cells = notebook["cells"]
    return next((cells[:i] for i, cell in enumerate(cells)
                 if cell["cell_type"] == "markdown" and APPENDIX_HEADING.match(source_text(cell))), cells)


def reading_load(notebook: dict) -> tuple[int, int]:
    """(words of Markdown, lines of shown code) on the main path; collapsed cells and comment lines not counted."""
    words = code = 0
    for cell in main_path(notebook):
        text = source_text(cell)
        if cell["cell_type"] == "markdown":
            words += len(text.split())
        elif cell["cell_type"] == "code" and not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            code += sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))
    return words, code


def source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def normalise_file(path: Path) -> bool:
    """Normalise the notebook at `path` in place; True when that changed the file."""
    before = Path(path).read_text(encoding="utf-8")
    after = notebook_text(normalise(json.loads(before)))
    if after == before:
        return False
    Path(path).write_text(after, encoding="utf-8")
    return True


def main(argv=None) -> int:
    """python -m gamlib.notebook_files NOTEBOOK...: normalise notebooks in place, naming those it changed."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m gamlib.notebook_files NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for path in paths:
        if normalise_file(Path(path)):
            print(f"normalised {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
