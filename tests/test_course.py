"""The series as a course: one notation, a main path of about twenty minutes, numbers in
prose that come from cells, exercises, figures that fit a page."""
import re

import pytest

from gamlib import notebook_files
from gamlib.paths import project_root

ROOT = project_root()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# Symbols docs/notation.md gives one meaning; these spellings would give them another.
CLASHES = {
    r"O\(N\b": "the sequence length is T: O(T)",
    r"(?<![\\\w])N\s*\(K": "the number of layers is L: L(K-1)+1",
    r"\\text\{(global|local)\}_t": "the pathway outputs are m_t and \\ell_t",
    r"(?<![\\\w])m_[jsr1]\b": "slot j of the bank is M_j (m_t is the global output)",
    r"(?<![\\\w{^])g_t": "the gates are g^{\\ell}_t and g^{m}_t",
    r"(?<![\\\w])a_t(?![\w^])": "the slot weights are \\alpha_t (a^{\\ell}, a^{m} are the gate pre-activations)",
    r"Q,\s*K,\s*V\b": "attention's keys and values are \\mathcal{K}, \\mathcal{V} (K is the kernel, V the vocabulary)",
    r"(?<![\\\w])S\s*=\s*\\frac": "the attention scores are \\mathrm{scores} (S is the slot count)",
    r"(?<![\\\w])h_t\s*=\s*(e\^|\\exp)": "Mamba's state is \\xi_t (h is GAM's normalised input)",
}


def markdown(path) -> str:
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return "\n".join(notebook_files.source_text(cell) for cell in notebook_files.read_notebook(path)["cells"]
                     if cell["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS + [ROOT / "docs" / "paper.md"], ids=lambda p: p.name[:8])
def test_math_uses_the_one_notation(path):
    maths = re.findall(r"\$\$?[^$]+\$\$?", markdown(path))
    found = [f"{formula[:60]!r}: {fix}" for formula in maths for pattern, fix in CLASHES.items()
             if re.search(pattern, formula)]
    assert not found, f"{path.name} uses a symbol docs/notation.md gives another meaning:\n" + "\n".join(found)


def test_the_notation_names_every_size_the_presets_set():
    text = (ROOT / "docs" / "notation.md").read_text(encoding="utf-8")
    for field in ("block_size", "n_embd", "vocab_size", "n_layer", "conv_kernel_size", "num_memory_slots",
                  "n_head", "d_state"):
        assert f"`{field}`" in text, f"docs/notation.md does not name the symbol of {field}"


def test_each_main_path_reads_in_about_twenty_minutes():
    load = {path.name[:2]: notebook_files.reading_load(notebook_files.read_notebook(path)) for path in NOTEBOOKS}
    over = {name for name, (words, code) in load.items()
            if words > notebook_files.WORD_BUDGET or code > notebook_files.CODE_BUDGET}
    report = ", ".join(f"{name}: {words} words, {code} code lines" for name, (words, code) in sorted(load.items()))
    assert not over, (f"over the budget of {notebook_files.WORD_BUDGET} words and {notebook_files.CODE_BUDGET} code "
                      f"lines before the Appendix: {sorted(over)} ({report})")


# Numbers in prose come from cells: each must appear, at the precision the prose gives it, in the notebook's
# outputs, in the paper's reported tables, or among the presets' definitions (K = 3, 512 wide, ...).
NUMBER = re.compile(r"(?<![\w.§/#-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w.]*\d)")
NOT_PROSE = [r"\]\([^)]*\)", r"`[^`]*`", r"\$\$.+?\$\$", r"\$[^$\n]+\$", r"arXiv:\s*\d+\.\d+", r"https?://\S+",
             r"^#+\s*\d+[a-z]?\.", r"\b\d{2}_\w+", r"§\s*\d+(\.\d+)?", r"\b(19|20)\d{2}\b",
             r"\b[Nn]otebooks? \d+(\s*(,|and|or|to|-)\s*\d+)*", r"\b(Table|Figure|Exercise|section)s? \d+", r"\[\d+ ·"]
SMALL_COUNTS = {str(i) for i in range(11)}  # "two pathways", "5 epochs", "3 seeds": counting words, not measurements


def prose_numbers(text: str) -> list[str]:
    for pattern in NOT_PROSE:
        text = re.sub(pattern, " ", text, flags=re.MULTILINE | re.DOTALL)
    return [m.group(1) for m in NUMBER.finditer(text)]


def number_sources(notebook: dict) -> list[float]:
    """Every number the notebook's outputs print, the paper reports, or a preset defines."""
    from gamlib.analysis import paper
    from gamlib.presets import PRESETS
    texts = [repr(p) for p in PRESETS.values()]
    texts += [str(v) for table in (paper.PAPER_TABLE1, paper.PAPER_TABLE2, paper.PAPER_TABLE3)
              for v in table.to_numpy().ravel()]
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append("".join(output.get("text", "")))
            texts += ["".join(output.get("data", {}).get(mime, "")) for mime in ("text/plain", "text/html")]
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", " ".join(texts).replace(",", "").replace("_", ""))]


def sourced(number: str, sources: list[float]) -> bool:
    """True when some source, rounded to the decimals `number` shows, equals it."""
    if number in SMALL_COUNTS:
        return True
    decimals = len(number.split(".")[1]) if "." in number else 0
    value = float(number.replace(",", ""))
    return any(round(source, decimals) == value for source in sources)


def test_numbers_in_prose_come_from_cells():
    unsourced = {}
    for path in NOTEBOOKS:
        notebook = notebook_files.read_notebook(path)
        sources = number_sources(notebook)
        found = [n for cell in notebook["cells"] if cell["cell_type"] == "markdown"
                 for n in prose_numbers(notebook_files.source_text(cell)) if not sourced(n, sources)]
        if found:
            unsourced[path.name[:2]] = found
    assert not unsourced, f"numbers typed in prose that no output, paper table or preset gives: {unsourced}"


# Exercises: a learner's cell ending in check_answer(...), then its collapsed solution, which nbval runs.
EXERCISE_NOTEBOOKS = {"01", "02", "03", "04", "05", "06", "08", "11", "12"}


def exercises(notebook: dict) -> int:
    """How many (learner's cell, collapsed solution cell) pairs, both ending in check_answer(...), it has."""
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    hidden = [bool(cell["metadata"].get("jupyter", {}).get("source_hidden")) for cell in code]
    checks = ["check_answer(" in notebook_files.source_text(cell) for cell in code]
    return sum(1 for i in range(1, len(code)) if checks[i - 1] and checks[i] and hidden[i] and not hidden[i - 1])


def test_the_listed_notebooks_end_in_at_least_two_exercises_with_solutions():
    count = {path.name[:2]: exercises(notebook_files.read_notebook(path)) for path in NOTEBOOKS}
    short = {name for name in EXERCISE_NOTEBOOKS if count[name] < 2}
    assert not short, f"exercises per notebook: {count}; fewer than two: {sorted(short)}"


# Figures no wider than a GitHub page: 9 inches at the notebooks' 80 dpi (notebooks/matplotlibrc), a little margin.
MAX_FIGURE_PIXELS = 760


def figure_widths(notebook: dict) -> list[int]:
    import base64
    import struct
    return [struct.unpack(">I", base64.b64decode("".join(output["data"]["image/png"]))[16:20])[0]
            for cell in notebook["cells"] for output in cell.get("outputs", [])
            if "image/png" in output.get("data", {})]


def test_figures_fit_a_github_page():
    wide = {path.name[:2]: [w for w in figure_widths(notebook_files.read_notebook(path)) if w > MAX_FIGURE_PIXELS]
            for path in NOTEBOOKS}
    wide = {name: widths for name, widths in wide.items() if widths}
    assert not wide, f"figures wider than {MAX_FIGURE_PIXELS} px (9 inches at 80 dpi): {wide}"
