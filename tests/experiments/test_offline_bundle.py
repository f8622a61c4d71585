"""The offline bundle without the network: what it would fetch (wheels the target lacks, the kernels' source
releases), the data it copies, and the commands it gives pip (a fake pip here; `make offline-bundle` runs pip)."""
from __future__ import annotations

import pytest

from gamlib.experiments.mamba_kernels import KERNEL_PACKAGES
from gamlib.experiments.offline_bundle import (
    copy_data,
    data_files,
    loaded_distributions,
    make_bundle,
    platforms,
    wheels_needed,
)


def names(specs):
    return {spec.split("==")[0] for spec in specs}


def test_the_wheels_are_what_the_session_imports_beyond_a_plain_pytorch_image():
    specs = wheels_needed("3.12", loaded_distributions())
    assert {"mambapy", "tokenizers", "numpy", "pandas", "tqdm", "pytest"} <= names(specs)
    # torch and its own requirements come with the image; optional imports (pyarrow by pandas, dill by torch) and
    # what only the notebooks or the hub need are left out
    assert not names(specs) & {"torch", "filelock", "sympy", "pyarrow", "dill", "matplotlib", "datasets", "gamlib"}
    assert all("==" in spec for spec in specs)  # pinned to what is installed (and tested) here


def test_a_manylinux_platform_takes_the_older_tags_it_covers():
    tags = platforms("manylinux_2_28_x86_64")
    assert tags[0] == "manylinux_2_28_x86_64" and {"manylinux_2_17_x86_64", "manylinux2014_x86_64"} <= set(tags)
    assert "manylinux_2_31_x86_64" not in tags and platforms("win_amd64") == ["win_amd64"]


def test_the_data_are_the_splits_the_queued_runs_read_copied_byte_for_byte(tmp_path):
    files = data_files("paper")
    assert sorted(map(str, files)) == ["tinystories/train.txt", "tinystories/validation.txt",
                                       "wikitext-2-v1/train.txt", "wikitext-2-v1/validation.txt"]
    source = tmp_path / "data"
    for i, relative in enumerate(files):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_bytes(f"split {i}\n".encode())
    (source / "wikitext-2-v1" / "test.txt").write_text("not read by training\n")
    copied = copy_data(files, source, tmp_path / "bundle")
    assert [p.read_bytes() for p in copied] == [(source / f).read_bytes() for f in files]
    assert not (tmp_path / "bundle" / "wikitext-2-v1" / "test.txt").exists()
    (source / files[0]).unlink()
    with pytest.raises(FileNotFoundError, match="train.txt is missing"):
        copy_data(files, source, tmp_path / "again")


def test_make_bundle_asks_pip_for_binary_wheels_of_the_target_and_the_two_source_releases(tmp_path):
    data = tmp_path / "data"
    for relative in data_files("paper"):
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        (data / relative).write_text("x\n")
    commands = []

    def pip(command, **kwargs):
        commands.append(command)
        dest = command[command.index("-d") + 1]
        (tmp_path / "out" / "sdist").mkdir(parents=True, exist_ok=True)
        assert dest.startswith(str(tmp_path / "out"))

    lines = make_bundle(tmp_path / "out", "3.12", "manylinux_2_28_x86_64", data_dir=data, run=pip)
    wheels, sources = commands
    assert {"--only-binary=:all:", "--no-deps", "3.12", "manylinux_2_28_x86_64"} <= set(wheels)
    assert "mambapy" in names(a for a in wheels if "==" in a)
    assert {"--no-binary", "--no-deps"} <= set(sources)
    assert [a for a in sources if "==" in a] == [f"{p}=={v}" for p, v in KERNEL_PACKAGES.items()]
    assert lines[-1].strip().startswith("python3 -m pip install -q --no-index --no-deps")
    assert any("offline bundle" in line and "MiB" in line for line in lines)
