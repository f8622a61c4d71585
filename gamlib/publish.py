"""Name the project's GitHub repository in every notebook and in README.md, with "Open in Colab" badges.

    python -m gamlib.publish --repo https://github.com/OWNER/REPO [--branch main]
    python -m gamlib.publish --sync        # after editing gamlib/colab.py: rewrite every set-up cell, same URL
    python -m gamlib.publish --unpublish   # back to "no repository named yet"

(`python scripts/publish.py ...`, the command README.md and the set-up cell name, runs this.) It works on
the checkout the package runs from (an editable install), else on the working directory.

What it writes (nothing else in a notebook changes; outputs of other cells stay as committed):
  * each notebook's set-up cell = gamlib.colab.setup_cell(repo, branch), the one source of that cell;
    inserted right after the `parameters` cell when a notebook has none; its outputs are cleared;
    the parameters cell gets the lines of the parameters that cell reads, where they are missing
    (so `--sync` also brings a new notebook into line);
  * an "Open in Colab" badge on the line after each notebook's title (replacing an earlier one);
  * README.md, between <!-- colab-links:begin --> and <!-- colab-links:end -->: the clone command and
    a badge per notebook (or, unpublished, what to run).
Push afterwards: Colab opens notebooks from GitHub, and the set-up cell clones REPO at BRANCH.
Exit status 0, or 2 for a bad argument (e.g. a URL that is not https://github.com/OWNER/REPO).
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

from . import colab
from .notebook_files import read_notebook, source_text, write_notebook
from .paths import project_root

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\(.*\)\]\(.*\)$")
README_BEGIN, README_END = "<!-- colab-links:begin -->", "<!-- colab-links:end -->"
GITHUB_URL = re.compile(r"^https://github\.com/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+?)(?:\.git)?/?$")
BRANCH_NAME = re.compile(r"^[A-Za-z0-9._/-]+$")


def normalise_repo(url: str) -> str:
    """'https://github.com/OWNER/REPO' from that URL with or without '.git' or a final '/'; else ValueError."""
    match = GITHUB_URL.match(url.strip())
    if not match or match.group(2) in (".", ".."):
        raise ValueError(f"--repo must be a GitHub repository URL such as https://github.com/OWNER/REPO "
                         f"(Colab opens notebooks from GitHub), got {url!r}")
    return f"https://github.com/{match.group(1)}/{match.group(2)}"


def badge(repo: str, branch: str, notebook: str) -> str:
    """The Markdown of an "Open in Colab" badge for notebooks/<notebook> at `branch` of `repo`."""
    slug = repo.removeprefix("https://github.com/")
    url = f"https://colab.research.google.com/github/{slug}/blob/{branch}/notebooks/{notebook}"
    return f"[![Open In Colab]({BADGE_IMAGE})]({url})"


def as_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def setup_cell_index(notebook: dict) -> int | None:
    """Index of the cell whose source starts with gamlib.colab.SETUP_MARKER, or None."""
    found = [i for i, c in enumerate(notebook["cells"])
             if c["cell_type"] == "code" and source_text(c).startswith(colab.SETUP_MARKER)]
    if len(found) > 1:
        raise ValueError(f"{len(found)} set-up cells (cells {found}); a notebook has one")
    return found[0] if found else None


def parameters_index(notebook: dict) -> int:
    for i, cell in enumerate(notebook["cells"]):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    raise ValueError("no cell tagged 'parameters' (papermill needs one; the set-up cell goes after it)")


def notebook_repo(notebook: dict) -> tuple[str | None, str]:
    """(repo, branch) named by a notebook's set-up cell (unpublished: (None, 'main'))."""
    index = setup_cell_index(notebook)
    if index is None:
        return colab.UNPUBLISHED, colab.DEFAULT_BRANCH
    return colab.parse_setup_cell(source_text(notebook["cells"][index]))


def put_setup_cell(notebook: dict, source: str) -> None:
    """Replace the set-up cell's source (clearing its outputs), or insert one after the parameters cell;
    either way collapsed (JupyterLab's source_hidden): it is plumbing, not part of the lesson."""
    index = setup_cell_index(notebook)
    if index is not None:
        cell = notebook["cells"][index]
        if source_text(cell) != source:
            cell["source"] = as_lines(source)
        if cell.get("outputs"):  # off Colab the cell prints nothing; outputs are from somewhere else
            cell.update(outputs=[], execution_count=None)
        cell.setdefault("metadata", {})["jupyter"] = {"source_hidden": True}
        return
    after = parameters_index(notebook)
    cell = {"cell_type": "code", "execution_count": None, "outputs": [], "source": as_lines(source),
            "metadata": {"tags": [], "jupyter": {"source_hidden": True}}}
    if notebook.get("nbformat", 4) >= 4 and notebook.get("nbformat_minor", 0) >= 5:
        prefix = str(notebook["cells"][0].get("id", "cell")).rsplit("-", 1)[0]
        ids = {c.get("id") for c in notebook["cells"]}
        names = (f"{prefix}-setup{n or ''}" for n in range(len(ids) + 1))
        cell["id"] = next(name for name in names if name not in ids)
    notebook["cells"].insert(after + 1, cell)


def put_parameters(notebook: dict) -> None:
    """Append gamlib.colab.SETUP_PARAMETER_LINES that the parameters cell does not define yet."""
    cell = notebook["cells"][parameters_index(notebook)]
    text = source_text(cell)
    defined = declared_parameters(text)
    missing = [line for name, line in zip(colab.SETUP_PARAMETERS, colab.SETUP_PARAMETER_LINES, strict=True)
               if name not in defined]
    if missing:
        cell["source"] = as_lines(text.rstrip("\n") + "\n" + "\n".join(missing))


def declared_parameters(text: str) -> set[str]:
    """The names a parameters cell assigns, typed (`seed: int = 0`) or not."""
    targets = [target for node in ast.parse(text).body
               for target in (node.targets if isinstance(node, ast.Assign)
                              else [node.target] if isinstance(node, ast.AnnAssign) else [])]
    return {target.id for target in targets if isinstance(target, ast.Name)}


def put_badge(notebook: dict, line: str | None) -> None:
    """The badge `line` right after the title line of the first (Markdown) cell; None removes it."""
    cell = notebook["cells"][0]
    if cell["cell_type"] != "markdown":
        raise ValueError("the first cell is not the Markdown title cell")
    lines = source_text(cell).split("\n")
    kept = []
    for i, text in enumerate(lines):  # drop an earlier badge and the blank line written next to it
        if BADGE_LINE.match(text):
            if i == len(lines) - 1 and kept and kept[-1] == "":
                kept.pop()
            continue
        if i > 0 and BADGE_LINE.match(lines[i - 1]) and text == "":
            continue
        kept.append(text)
    if line is not None:  # title, blank line, badge, then the rest as it was
        kept[1:1] = ["", line] if len(kept) == 1 or kept[1] == "" else ["", line, ""]
    new = "\n".join(kept)
    if new != source_text(cell):
        cell["source"] = as_lines(new)


def readme_block(repo: str | None, branch: str, notebooks: list[str]) -> str:
    """What README.md holds between its colab-links markers."""
    if repo is None:
        return ("Not published yet: no repository is named, so the notebooks have no Colab badges and their\n"
                "set-up cell stops on Colab with a message. From a clone of your copy of the project, run\n"
                "`python scripts/publish.py --repo https://github.com/OWNER/REPO` and push.")
    rows = "\n".join(f"| `{name.removesuffix('.ipynb')}` | {badge(repo, branch, name)} |" for name in notebooks)
    return (f"Repository: {repo} (branch `{branch}`); `git clone {repo}.git`\n\n"
            f"| notebook | Colab |\n|---|---|\n{rows}")


def put_readme_block(text: str, block: str) -> str:
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {README_BEGIN} ... {README_END}")
    return text[: start + len(README_BEGIN)] + "\n" + block + "\n" + text[end:]


def publish(root: Path, repo: str | None, branch: str = colab.DEFAULT_BRANCH, sync: bool = False) -> list[Path]:
    """Write `repo` and `branch` (or, with sync, the ones already written) into every notebook and
    README.md under `root`; return the files changed."""
    folder = root / "notebooks"
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks NN_*.ipynb in {folder}")
    notebooks = {path: read_notebook(path) for path in paths}
    if sync:
        named = {notebook_repo(nb) for nb in notebooks.values()} - {(colab.UNPUBLISHED, colab.DEFAULT_BRANCH)}
        if len(named) > 1:
            raise ValueError(f"the notebooks name different repositories {sorted(map(str, named))}: "
                             "publish again with --repo")
        repo, branch = named.pop() if named else (colab.UNPUBLISHED, colab.DEFAULT_BRANCH)
    if not BRANCH_NAME.match(branch):
        raise ValueError(f"--branch {branch!r} is not a branch name")
    changed = {}  # everything is checked before anything is written
    for path, notebook in notebooks.items():
        before = json.dumps(notebook, sort_keys=True)
        put_parameters(notebook)
        put_setup_cell(notebook, colab.setup_cell(repo, branch))
        put_badge(notebook, badge(repo, branch, path.name) if repo else None)
        if json.dumps(notebook, sort_keys=True) != before:
            changed[path] = notebook
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = put_readme_block(text, readme_block(repo, branch, [p.name for p in paths]))
    for path, notebook in changed.items():
        write_notebook(path, notebook)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        changed[readme] = None
    return list(changed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--repo", help="https://github.com/OWNER/REPO: where the notebooks will be opened from")
    what.add_argument("--sync", action="store_true", help="rewrite the set-up cells from gamlib/colab.py, same URL")
    what.add_argument("--unpublish", action="store_true", help="name no repository (the notebooks say what to do)")
    parser.add_argument("--branch", default=colab.DEFAULT_BRANCH, help="branch the badges open and the set-up clones")
    parser.add_argument("--root", type=Path, default=project_root() or Path.cwd(), help=argparse.SUPPRESS)  # tests
    args = parser.parse_args(argv)
    try:
        repo = normalise_repo(args.repo) if args.repo else colab.UNPUBLISHED
        changed = publish(args.root, repo, args.branch, sync=args.sync)
    except ValueError as error:
        parser.error(str(error))
    for path in changed:
        print(f"wrote {path.relative_to(args.root)}")
    if not changed:
        print("nothing to change")
    if repo and not args.sync:
        print(f"now commit and push to {repo} (branch {args.branch}); the badges open the notebooks from there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
