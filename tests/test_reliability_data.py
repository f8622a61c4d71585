"""Nothing stale, nothing lost (data): one table of what can go wrong with text and caches, and what must happen.

Each row is (case, action, expected). Every case starts from a clean load of a small WikiText-like folder
into a private cache (GAMLIB_CACHE_DIR), with $GAMLIB_DATA_DIR pointing at that folder and a "hub" that
would serve rows if asked, so that a silent fallback would succeed and be seen. The action then changes
the world (edits text, corrupts a cache file, points at a wrong folder) and returns the keyword arguments
of the load under test. The expected outcome is one of:

    ("error", ExceptionType, [fragments])  the load raises it, naming every fragment ({data}, {empty}... filled in)
    ("changed",)                           a new fingerprint and new ids, equal to a clean build of the new text
    ("rebuilt", "tokenizer" | "ids")       a warning names the damaged file; that file is rebuilt; the result
                                           equals the clean build and its fingerprint is unchanged
    ("reused",)                            same fingerprint, nothing trained or encoded, cache files untouched
"""
import pickle
import random
import re
import warnings
from pathlib import Path

import pytest
import torch

import gamlib.data.cache
import gamlib.data.sources
from gamlib.data import CacheRebuiltWarning, load_lm_data

_rng = random.Random(11)
_SYLLABLES = "ka lo mi nu ra se ti vo ba de fi go hu je ly pa qu so we zy".split()
WORDS = ["".join(_rng.choice(_SYLLABLES) for _ in range(_rng.randint(1, 3))) for _ in range(400)] + ["the", "."] * 30


def write_split(path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = ["" if i % 10 == 0 else " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))) for i in range(lines)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


class World:
    """The small data folder, the private cache, and counters of how often a tokenizer is trained / rows encoded."""

    def __init__(self, root: Path, monkeypatch):
        self.root, self.monkeypatch = root, monkeypatch
        self.data, self.empty, self.cache = root / "data", root / "empty", root / "cache"
        self.empty.mkdir()
        write_split(self.data / "wikitext-2-v1" / "train.txt", 300, seed=1)
        write_split(self.data / "wikitext-2-v1" / "validation.txt", 80, seed=2)
        monkeypatch.setenv("GAMLIB_DATA_DIR", str(self.data))
        monkeypatch.setenv("GAMLIB_CACHE_DIR", str(self.cache))
        monkeypatch.setattr(gamlib.data.sources, "load_hub_rows", lambda *args: ["served by the hub"] * 200)
        self.calls = {"train_tokenizer": 0, "encode_rows": 0}
        for name in self.calls:  # patched where the cache calls them
            monkeypatch.setattr(gamlib.data.cache, name, self._counted(name, getattr(gamlib.data.cache, name)))
        self.target = None  # the cache file an action damaged
        self.marker = root / "malicious-code-ran"

    def _counted(self, name, function):
        def counted(*args, **kwargs):
            self.calls[name] += 1
            return function(*args, **kwargs)
        return counted

    def load(self, **kwargs):
        return load_lm_data("wikitext2", block_size=16, vocab_size=300, max_train_rows=None, max_val_rows=None,
                            **kwargs)

    def clean_build(self):
        """The load of the current text with an empty cache (another folder), for comparison."""
        with self.monkeypatch.context() as patch:
            patch.setenv("GAMLIB_CACHE_DIR", str(self.root / f"clean-{len(list(self.root.glob('clean-*')))}"))
            patch.setenv("GAMLIB_DATA_DIR", str(self.data))
            return self.load()

    def cache_file(self, pattern: str) -> Path:
        (path,) = self.cache.glob(pattern)
        return path

    def snapshot(self) -> dict:
        return {path.name: path.read_bytes() for path in sorted(self.cache.iterdir())}


class Malicious:
    """Unpickling this calls open(marker, "w"): a file appears if any code from the pickle runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


# ---- actions: change the world after a clean load, return the keyword arguments of the load under test ----

def edit_one_line_keep_line_count(world):
    path = world.data / "wikitext-2-v1" / "train.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = "zebra quokka xylophone " + lines[3]  # letters and words the old tokenizer never saw
    path.write_text("\n".join(lines), encoding="utf-8")
    return {}


def empty_data_dir(world):
    return {"data_dir": world.empty}


def missing_data_dir(world):
    return {"data_dir": world.root / "no-such-folder"}


def data_dir_without_the_split(world):
    write_split(world.empty / "wikitext-2-v1" / "train.txt", 50, seed=3)  # train only, no validation
    return {"data_dir": world.empty}


def wrong_env_data_dir(world):
    world.monkeypatch.setenv("GAMLIB_DATA_DIR", str(world.empty))
    return {}


def truncate(pattern):
    def action(world):
        world.target = world.cache_file(pattern)
        content = world.target.read_bytes()
        world.target.write_bytes(content[: len(content) // 2])
        return {}
    action.__name__ = f"truncate {pattern}"
    return action


def garbage_ids(world):
    world.target = world.cache_file("ids-wikitext2-validation-*.pt")
    world.target.write_bytes(b"\x00\x01not a torch file at all" * 7)
    return {}


def malicious_pickle_as_ids(world, zipped):
    world.target = world.cache_file("ids-wikitext2-train-*.pt")
    if zipped:  # a real torch .pt archive whose pickle calls open()
        torch.save(Malicious(world.marker), world.target)
    else:       # a bare pickle
        world.target.write_bytes(pickle.dumps(Malicious(world.marker)))
    assert not world.marker.exists()
    return {}


def binary_train_text(world):
    (world.data / "wikitext-2-v1" / "train.txt").write_bytes(b"ok line\n\x89PNG\r\n\x1a\n\x00\xff\xfe binary")
    return {}


def nothing(world):
    return {}


TRAIN = "{data}/wikitext-2-v1/train.txt"
CASES = [
    ("(a) train text edited, same number of lines -> new tokenizer and ids",
     edit_one_line_keep_line_count, ("changed",)),
    ("(b) explicit data_dir that is an empty folder -> error naming the file it lacks",
     empty_data_dir, ("error", FileNotFoundError, ["{empty}/wikitext-2-v1/train.txt", "data_dir=",
                                                   "no wikitext-2-v1/ folder"])),
    ("(b) explicit data_dir that does not exist -> error naming it",
     missing_data_dir, ("error", FileNotFoundError, ["{root}/no-such-folder/wikitext-2-v1/train.txt",
                                                     "does not exist"])),
    ("(b) explicit data_dir with train but no validation -> error naming validation.txt",
     data_dir_without_the_split, ("error", FileNotFoundError, ["{empty}/wikitext-2-v1/validation.txt",
                                                              "{empty}/wikitext-2-v1 has no validation.txt"])),
    ("(c) GAMLIB_DATA_DIR pointing at a folder without the dataset -> error, no hub fallback",
     wrong_env_data_dir, ("error", FileNotFoundError, ["{empty}/wikitext-2-v1/train.txt", "GAMLIB_DATA_DIR="])),
    ("(d) truncated tokenizer JSON -> named in a warning, rebuilt, same as a clean build",
     truncate("tokenizer-wikitext2-300-*.json"), ("rebuilt", "tokenizer")),
    ("(e) truncated token-id .pt -> named in a warning, rebuilt, same as a clean build",
     truncate("ids-wikitext2-train-*.pt"), ("rebuilt", "ids")),
    ("(e) garbage token-id .pt -> named in a warning, rebuilt, same as a clean build",
     garbage_ids, ("rebuilt", "ids")),
    ("(f) malicious pickle (torch archive) as the ids cache -> refused, no code ran, rebuilt",
     lambda world: malicious_pickle_as_ids(world, zipped=True), ("rebuilt", "ids")),
    ("(f) malicious bare pickle as the ids cache -> refused, no code ran, rebuilt",
     lambda world: malicious_pickle_as_ids(world, zipped=False), ("rebuilt", "ids")),
    ("(g) binary (non-UTF-8) train.txt -> error naming the file",
     binary_train_text, ("error", ValueError, [TRAIN + " is not UTF-8 text"])),
    ("(h) unchanged data loaded again -> same fingerprint, cache reused",
     nothing, ("reused",)),
]


@pytest.mark.parametrize("case,action,expected", CASES, ids=[case[:3].strip("()") + "-" + str(i)
                                                             for i, (case, _, _) in enumerate(CASES)])
def test_data_reliability(case, action, expected, tmp_path, monkeypatch):
    world = World(tmp_path, monkeypatch)
    before = world.load()
    kwargs = action(world)
    files_before = world.snapshot()
    world.calls.update(train_tokenizer=0, encode_rows=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            after, error = world.load(**kwargs), None
        except Exception as raised:  # noqa: BLE001 (the expected outcome says which)
            after, error = None, raised
    messages = [str(warning.message) for warning in caught]
    calls = dict(world.calls)  # work done by the load under test (the clean build below adds its own)
    kind = expected[0]

    if kind == "error":
        _, error_type, fragments = expected
        assert isinstance(error, error_type), f"{case}: expected {error_type.__name__}, got {error!r}"
        for fragment in fragments:
            fragment = fragment.format(data=world.data, empty=world.empty, root=world.root)
            assert fragment in str(error), f"{case}: {fragment!r} not in {str(error)!r}"
        return
    assert error is None, f"{case}: {error!r}"
    clean = world.clean_build()
    assert after.fingerprint == clean.fingerprint
    assert after.tokenizer.to_str() == clean.tokenizer.to_str()
    assert torch.equal(after.train.inputs, clean.train.inputs)
    assert torch.equal(after.validation.inputs, clean.validation.inputs)

    if kind == "changed":
        assert after.fingerprint["train_sha256"] != before.fingerprint["train_sha256"]
        assert after.fingerprint["tokenizer_sha256"] != before.fingerprint["tokenizer_sha256"]
        assert after.fingerprint["train_rows"] == before.fingerprint["train_rows"]
        assert not torch.equal(after.train.inputs[:4], before.train.inputs[:4])
        assert calls["train_tokenizer"] == 1 and not messages
    elif kind == "rebuilt":
        assert after.fingerprint == before.fingerprint
        assert [m for m in messages if str(world.target) in m and "unreadable" in m and "rebuilding" in m], messages
        assert all(issubclass(warning.category, CacheRebuiltWarning) for warning in caught)
        assert calls == ({"train_tokenizer": 1, "encode_rows": 0} if expected[1] == "tokenizer"
                               else {"train_tokenizer": 0, "encode_rows": 1})
        assert world.target.read_bytes() != files_before[world.target.name]  # replaced by a good copy
        assert not world.marker.exists(), "code from the cache file ran"
        if expected[1] == "ids":
            assert isinstance(torch.load(world.target, weights_only=True), torch.Tensor)
        assert not [path for path in world.cache.iterdir() if re.search(r"\.tmp$", path.name)]
    elif kind == "reused":
        assert after.fingerprint == before.fingerprint
        assert calls == {"train_tokenizer": 0, "encode_rows": 0} and not messages
        assert world.snapshot() == files_before
    else:
        raise AssertionError(f"unknown expected outcome {expected}")
