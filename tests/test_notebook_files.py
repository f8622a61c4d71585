"""gamlib.notebook_files: committed notebooks carry no run stamps, and nbval markers are cell tags."""
import copy
import json

import pytest

from gamlib import notebook_files
from gamlib.paths import project_root

NOTEBOOKS = sorted((project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET = {"model_id": "abc", "version_major": 2, "version_minor": 0}


def stamped() -> dict:
    """A notebook as papermill leaves it: timestamps, run metadata, widget state and a widget view."""
    return {"metadata": {"kernelspec": {"name": "python3"}, "papermill": {"duration": 1.0},
                         "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {}}}},
            "cells": [{"cell_type": "code", "source": "x", "execution_count": 1,
                       "metadata": {"tags": ["nbval-check-output"], "execution": {"iopub.status.idle": "t"},
                                    "papermill": {"duration": 0.1}},
                       "outputs": [{"output_type": "display_data", "metadata": {},
                                    "data": {notebook_files.WIDGET_VIEW: WIDGET, "text/plain": "VBox()"}},
                                   {"output_type": "display_data", "metadata": {},
                                    "data": {notebook_files.WIDGET_VIEW: WIDGET}},
                                   {"output_type": "stream", "name": "stdout", "text": "1\n"}]}],
            "nbformat": 4, "nbformat_minor": 5}


def test_normalise_drops_run_stamps_and_widget_state_and_keeps_the_rest():
    notebook = notebook_files.normalise(stamped())
    assert notebook["metadata"] == {"kernelspec": {"name": "python3"}}
    cell = notebook["cells"][0]
    assert cell["metadata"] == {"tags": ["nbval-check-output"]} and cell["execution_count"] == 1
    assert cell["outputs"] == [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": "VBox()"}},
                               {"output_type": "stream", "name": "stdout", "text": "1\n"}]
    assert notebook_files.normalise(copy.deepcopy(notebook)) == notebook  # idempotent


def test_normalise_file_rewrites_only_what_changes(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(stamped()), encoding="utf-8")
    assert notebook_files.normalise_file(path) is True
    text = path.read_text(encoding="utf-8")
    assert notebook_files.normalise_file(path) is False and path.read_text(encoding="utf-8") == text
    assert text == notebook_files.notebook_text(json.loads(text))  # nbformat's layout: indent 1, sorted keys


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_committed_notebooks_are_normalised(path):
    text = path.read_text(encoding="utf-8")
    assert text == notebook_files.notebook_text(notebook_files.normalise(json.loads(text))), (
        f"{path.name} carries run stamps: run `python -m gamlib.notebook_files notebooks/*.ipynb`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_nbval_markers_are_cell_tags_not_comments(path):
    cells = notebook_files.read_notebook(path)["cells"]
    comments = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"
                and any(line.strip().startswith("# NBVAL_") for line in "".join(cell["source"]).splitlines())]
    assert not comments, f"{path.name}: cells {comments} mark nbval in a comment; use the tag nbval-check-output"
    checked = [cell for cell in cells if "nbval-check-output" in cell["metadata"].get("tags", [])]
    assert checked, f"{path.name}: no output-checked cell"


def test_figures_are_stored_as_compact_pngs_on_white_and_normalising_twice_changes_nothing():
    import base64
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    fig, ax = plt.subplots(figsize=(6, 3), facecolor=(1, 1, 1, 0))   # a transparent background, as inline can be
    ax.imshow([[i * j for i in range(64)] for j in range(32)], cmap="viridis")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    compact = notebook_files.compact_png(encoded)
    image = Image.open(io.BytesIO(base64.b64decode(compact)))
    assert image.mode == "P" and len(compact) < len(encoded)
    assert min(image.convert("RGB").getpixel((0, 0))) >= 250          # transparent became white, not black
    assert notebook_files.compact_png(compact) == compact


def test_the_committed_notebooks_stay_light():
    sizes = {path.name: path.stat().st_size for path in NOTEBOOKS}
    heavy = {name: f"{size // 1024} KiB" for name, size in sizes.items() if size > notebook_files.NOTEBOOK_BYTES}
    assert not heavy, f"notebooks over {notebook_files.NOTEBOOK_BYTES // 1024} KiB: {heavy} (figure width <= 9 in)"
    assert sum(sizes.values()) <= notebook_files.SERIES_BYTES, f"the series weighs {sum(sizes.values()) >> 10} KiB"
