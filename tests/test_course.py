"""The series as a course (../shared/COURSE.md): one notation, a main path of about twenty minutes, exercises.

The notebooks not yet within a budget are listed by name; each test fails both when a listed notebook is
still missing and when a notebook that is not listed falls short, so the lists only ever shrink.
"""
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


OVER_BUDGET = {"01", "03", "04", "05", "06", "07", "08", "09", "11", "12", "13"}  # issue 21: being cut down


def test_each_main_path_reads_in_about_twenty_minutes():
    load = {path.name[:2]: notebook_files.reading_load(notebook_files.read_notebook(path)) for path in NOTEBOOKS}
    over = {name for name, (words, code) in load.items()
            if words > notebook_files.WORD_BUDGET or code > notebook_files.CODE_BUDGET}
    report = ", ".join(f"{name}: {words} words, {code} code lines" for name, (words, code) in sorted(load.items()))
    assert over == OVER_BUDGET, (f"over the budget of {notebook_files.WORD_BUDGET} words and "
                                 f"{notebook_files.CODE_BUDGET} code lines before the Appendix: {sorted(over)}; "
                                 f"listed as over: {sorted(OVER_BUDGET)} ({report})")
