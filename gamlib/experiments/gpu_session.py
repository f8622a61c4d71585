"""A budgeted GPU session: what is still missing, in a fixed order of value, within a time budget (issue 24).

    python -m gamlib.experiments.gpu_session --budget 540                 (make gpu-session BUDGET=540; gam-gpu-session)
    python -m gamlib.experiments.gpu_session --dry-run --gpu H200 --budget 540     the queue on any machine
    python -m gamlib.experiments.gpu_session --budget 540 --out /tmp/session      + the new records in one tar.gz
    python -m gamlib.experiments.gpu_session --preset colab --budget 3000 --colab-results drive   (a free Colab T4)

The queue, by rank (first what has never run on CUDA, then what decides a claim):
    1  gpu-check: the CUDA tests and a few paper-configuration steps of every model (gamlib.experiments.gpu_check)
    2  Table 2 on CUDA: one block, batch 16, fp16, 256 ... 65,536 tokens where memory allows (gamlib.run_scaling)
    3  Table 1 on WikiText-2 without the bare Mamba (gamlib.plan.session_runs): at the paper preset, what is
       left are the SDPA Transformer's and the standard Mamba's seeds 1-2
    4  training throughput of every Table 1 model, eager and compiled, side by side (run_compile_benchmark)
    5  the bare ('paper') Mamba on WikiText-2, then TinyStories' GAM and Transformers, every seed
    6  the standard recall grid at GPU size (gamlib.experiments.recall.MQAR_GPU_TASK, gamlib.plan.MQAR_GPU_WIDTHS):
       the lr sweep of the first seed, then seeds 1-2 of each row at its best lr (they wait for their row's sweep)
    7  the official Mamba kernels: built from source, checked against mambapy, timed (gamlib.experiments.mamba_kernels)
    8  the rest of the preset's study plan, cheapest first (so the same command finishes a preset, e.g. on Colab)

A job with a finished record is skipped (records.py decides, as the job itself would reuse it). A job starts only
when its estimate x the safety margin fits what is left of the budget; one that does not fit is skipped and the
next one that fits still runs. Estimates come from earlier records of the same job on the same GPU class (their
wall_s) where they exist, from the cost model (gamlib.experiments.cost: arithmetic on stated assumptions)
otherwise; each is printed with its source. Every finished run is a record at once; a killed session loses only
the run in flight, and a training run resumes from its saved state when the session is started again.
"""
from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tarfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from ..data import DATASETS, load_lm_data
from ..data.sources import candidate_data_dirs
from ..models.mamba import mamba_ssm_available
from ..paths import project_root, results_dir
from ..plan import (
    MQAR_GPU_WIDTHS,
    MQAR_LRS,
    MQAR_MODELS,
    MQAR_SEEDS,
    TABLE1_MODELS,
    RecallRun,
    Run,
    mqar_sweep_runs,
    runs_scaling,
    session_runs,
)
from ..presets import Preset, get_preset
from ..records import UnreadableRecord, git_commit, read_record
from .cost import (
    GPU_CLASSES,
    GPU_NAMES,
    GPUClass,
    chunks,
    compile_benchmark_seconds,
    detect_gpu_class,
    estimate_run,
    gpu_check_seconds,
    gpu_class_of,
    kernels_seconds,
    precision_mode,
    recall_run_seconds,
    run_seconds,
    scaling_seconds,
)
from .gpu_check import MODELS as CHECK_MODELS
from .gpu_check import STEPS as CHECK_STEPS
from .gpu_check import run_gpu_check
from .inference import benchmark_path
from .lm import finished_lm_record, record_path, run_lm_experiment
from .mamba_kernels import TIMED as KERNEL_TIMED
from .mamba_kernels import run_kernels_job
from .offline_bundle import BUNDLE, SOURCES
from .recall import MQAR_GPU_TASK, MQAR_GPU_TRAINING, mqar_best_lr, recall_path, run_mqar_run
from .scaling import run_scaling, scaling_path
from .study import hours
from .throughput import run_compile_benchmark

DEFAULT_MARGIN = 1.3     # a job starts when estimate x margin <= the budget left
BENCHMARK_STEPS = 10     # timed rounds of the side-by-side benchmarks (jobs 4 and 7)
OFFLINE_SOURCES = f"{BUNDLE}/{SOURCES}"   # the offline bundle's source releases, under the checkout


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str   # "record: ..." (earlier runs of the same job on this GPU class) or "cost model: ..."


@dataclass(frozen=True)
class Job:
    """One entry of the queue: its rank in the order of value, a name, and three callables: whether a finished
    record exists, the estimate, and the run (which writes the record)."""
    rank: int
    name: str
    done: Callable[[], bool]
    estimate: Callable[[], Estimate]
    run: Callable[[], object]
    waits_for: Callable[[], str | None] = lambda: None   # why it cannot start yet (another job's record), or None


@dataclass
class Outcome:
    job: Job
    status: str                    # done | ran | failed: ... | skipped: ... | would run (a dry run)
    estimate: Estimate | None = None
    seconds: float | None = None   # measured


@dataclass(frozen=True)
class Session:
    """What the jobs are built for: preset, GPU (the visible one or the one named for a dry run), folders."""
    preset: Preset
    gpu_name: str
    gpu: GPUClass
    results: Path | None = None
    data_dir: str | None = None
    mamba_backend: str = "mambapy"
    kernel_sources: Path | None = None
    save_every: int = 500
    data_cache: dict = field(default_factory=dict, compare=False)

    def data(self, dataset: str):
        if dataset not in self.data_cache:
            self.data_cache[dataset] = load_lm_data(dataset, data_dir=self.data_dir, **self.preset.data_kwargs())
        return self.data_cache[dataset]

    def local_train_chunks(self, dataset: str) -> int | None:
        """The training chunks of a local copy of `dataset` (what the run will read), or None without one (the hub:
        never fetched for an estimate)."""
        folders = candidate_data_dirs(self.data_dir)
        local = folders and (folders[0] / DATASETS[dataset].local_folder / "train.txt").is_file()
        return len(self.data(dataset).train) if local else None


def run_session(jobs: list[Job], budget_s: float, margin: float = DEFAULT_MARGIN, dry_run: bool = False,
                clock: Callable[[], float] = time.monotonic, log: Callable[[str], None] = print) -> list[Outcome]:
    """Go through the queue in order: skip what is done or waits for another job's record, start a job only when
    estimate x margin fits what is left,
    run it and time it. A dry run runs nothing and counts each job that would start as taking its estimate.
    A job that fails is reported and the session goes on with the next."""
    started, spent, outcomes = clock(), 0.0, []
    for job in jobs:
        if job.done():
            outcomes.append(Outcome(job, "done"))
            continue
        waiting = job.waits_for()
        if waiting:
            outcomes.append(Outcome(job, f"skipped: {waiting}"))
            continue
        estimate = job.estimate()
        left = budget_s - (spent if dry_run else clock() - started)
        if estimate.seconds * margin > left:
            outcomes.append(Outcome(job, f"skipped: needs {hours(estimate.seconds * margin).strip()} with the margin, "
                                         f"{hours(max(left, 0)).strip()} left", estimate))
            continue
        if dry_run:
            spent += estimate.seconds
            outcomes.append(Outcome(job, "would run", estimate))
            continue
        log(f"\n== job {job.rank}: {job.name} (estimate {hours(estimate.seconds).strip()}, {estimate.source}; "
            f"{hours(left).strip()} left)")
        begun = clock()
        try:
            job.run()
            status = "ran"
        except Exception as error:  # a broken job must not cost the rest of the session
            status = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:100] if str(error) else ''}"
        outcomes.append(Outcome(job, status, estimate, clock() - begun))
        log(f"== job {job.rank}: {job.name}: {status} in {hours(outcomes[-1].seconds).strip()}")
    return outcomes


# --- estimates --------------------------------------------------------------------------------------------------

def earlier_estimate(paths, session: Session) -> Estimate | None:
    """The mean wall_s of the records at `paths` that ran on this session's GPU class, or None."""
    seconds, devices = [], set()
    for path in paths:
        try:
            record = read_record(path)
        except UnreadableRecord:
            continue
        device = (record or {}).get("provenance", {}).get("device", "")
        if record and "wall_s" in record and gpu_class_of(device) == session.gpu.name:
            seconds.append(record["wall_s"])
            devices.add(device)
    if not seconds:
        return None
    return Estimate(statistics.mean(seconds), f"record: mean wall_s of {len(seconds)} earlier run(s) on "
                                              f"{', '.join(sorted(devices))}")


def modelled(seconds: float, session: Session, what: str = "") -> Estimate:
    return Estimate(seconds, f"cost model: {session.gpu.name} class assumptions{what}")


def run_estimate(run: Run, session: Session) -> Estimate:
    """Earlier records of the same model, variant and dataset (any seed) on this GPU class, else the cost model."""
    folder = results_dir(session.results) / session.preset.name / run.dataset
    earlier = earlier_estimate(sorted(folder.glob(f"{run.model}-{run.variant}-seed*.json")), session)
    if earlier:
        return earlier
    estimate = estimate_run(session.preset, run.model, run.variant, run.dataset, session.mamba_backend)
    seconds = run_seconds(estimate, session.gpu, precision_mode(session.preset, session.gpu))
    what = f", Mamba on {session.mamba_backend}" if run.model == "mamba" else ""
    local, modelled_chunks = session.local_train_chunks(run.dataset), chunks(session.preset, run.dataset, "train")
    if local is not None and local != modelled_chunks:  # the cost model counts the full split; a local copy may be less
        seconds *= local / modelled_chunks
        what += f", scaled to the local copy's {local:,} of {modelled_chunks:,} train chunks"
    return modelled(seconds, session, what)


def earlier_or_modelled(path: Path, session: Session, model: Callable[[], float], what: str = "") -> Estimate:
    """The record at `path` if it ran on this GPU class (even a stale or failed one: it timed the same job), else
    `model()` seconds from the cost model."""
    return earlier_estimate([path], session) or modelled(model(), session, what)


def benchmark_estimate(name: str, session: Session, model: Callable[[], float], what: str = "") -> Estimate:
    return earlier_or_modelled(benchmark_path(name, session.preset.name, "cuda", session.results), session, model,
                               what)


# --- the queue ----------------------------------------------------------------------------------------------------

def training_job(rank: int, run: Run, session: Session) -> Job:
    path = record_path(session.results, session.preset.name, run.dataset, run.model, run.variant, run.seed)
    resumes = any(path.parent.glob(f"{path.stem}.*.train.pt"))
    return Job(rank, run.describe() + (" (resumes its saved state)" if resumes else ""),
               done=lambda: finished_lm_record(run, session.preset, session.results, session.data_dir,
                                               functools.partial(session.data, run.dataset)) is not None,
               estimate=lambda: run_estimate(run, session),
               run=lambda: run_lm_experiment(run.model, run.variant, run.dataset, session.preset, run.seed,
                                             results_root=session.results, data_dir=session.data_dir,
                                             save_every_steps=session.save_every))


def passed(record: dict, *keys: str) -> dict:
    """`record` when each of `keys` is true in it; else an error naming them (the record stays, and is not reused:
    the session reports the job as failed and the next session runs it again)."""
    failed = [key for key in keys if not record.get(key)]
    if failed:
        raise RuntimeError(f"{', '.join(failed)}: false in its record ({record.get('benchmark')}); see the record")
    return record


def recall_estimate(run: RecallRun, session: Session) -> Estimate:
    """Earlier runs of the same model, variant and width on this GPU class (any lr, seed), else the cost model."""
    folder = recall_path(session.preset.name, MQAR_GPU_TASK, run.name, session.results).parent
    earlier = earlier_estimate(sorted(folder.glob(f"{run.model}-{run.variant}-C{run.width}-*.json")), session)
    return earlier or modelled(recall_run_seconds(
        session.preset, run.model, run.variant, run.width, MQAR_GPU_TASK.vocab_size, MQAR_GPU_TASK.seq_len,
        MQAR_GPU_TRAINING, session.gpu, session.mamba_backend), session)


def recall_grid_jobs(session: Session) -> list[Job]:
    """Job 6, the standard recall grid at GPU size: every sweep run, then seeds 1-2 of each row (model, variant,
    width) at the lr its finished sweep answers best with; a seed job waits while its row's sweep is unfinished."""
    preset, results = session.preset.name, session.results

    def record(run: RecallRun) -> dict | None:
        return run_mqar_run(run, preset, results, task=MQAR_GPU_TASK, training=MQAR_GPU_TRAINING, lookup_only=True)

    def train(run: RecallRun) -> dict:
        return run_mqar_run(run, preset, results, task=MQAR_GPU_TASK, training=MQAR_GPU_TRAINING)

    def sweep_job(run: RecallRun) -> Job:
        return Job(6, f"standard recall {run.name}", done=lambda: record(run) is not None,
                   estimate=lambda: recall_estimate(run, session), run=lambda: train(run))

    def seed_job(row: tuple, seed: int) -> Job:
        row_sweep = mqar_sweep_runs([row[:2]], [row[2]], MQAR_LRS)

        def at_best_lr() -> RecallRun | None:  # the seed's run, once every sweep run of its row has a record
            records = [record(run) for run in row_sweep]
            if None in records:
                return None
            return RecallRun(*row, mqar_best_lr(pd.DataFrame({"record": records}))[row], seed)

        name = f"standard recall {row[0]}-{row[1]}-C{row[2]} seed {seed} at its sweep's best lr"
        return Job(6, name, done=lambda: (run := at_best_lr()) is not None and record(run) is not None,
                   estimate=lambda: recall_estimate(row_sweep[0], session), run=lambda: train(at_best_lr()),
                   waits_for=lambda: None if at_best_lr() else "waits for its row's lr sweep")

    rows = [(model, variant, width) for width in MQAR_GPU_WIDTHS
            for model, variant in sorted(MQAR_MODELS, key=lambda m: m[0] == "mamba")]
    return ([sweep_job(run) for run in mqar_sweep_runs(MQAR_MODELS, MQAR_GPU_WIDTHS, MQAR_LRS)] +
            [seed_job(row, seed) for row in rows for seed in MQAR_SEEDS[1:]])


def session_jobs(session: Session) -> list[Job]:
    """The whole queue, in the order of value (the module's docstring)."""
    preset, name, results = session.preset, session.preset.name, session.results
    runs = session_runs(preset)
    jobs = [Job(1, "gpu-check: CUDA tests + paper-configuration steps of every model",
                done=lambda: run_gpu_check(name, results_root=results, lookup_only=True) is not None,
                estimate=lambda: benchmark_estimate("gpu-check", session, lambda: gpu_check_seconds(
                    session.gpu, CHECK_MODELS, CHECK_STEPS), ", tests assumed"),
                run=lambda: passed(run_gpu_check(name, results_root=results), "passed"))]
    if runs_scaling(preset):
        jobs.append(Job(2, "Table 2 on CUDA: one block, batch 16, fp16, 256 ... 65,536 tokens",
                        done=lambda: run_scaling(name, "cuda", results, lookup_only=True) is not None,
                        estimate=lambda: earlier_or_modelled(
                            scaling_path(name, "cuda", results), session,
                            lambda: scaling_seconds(session.gpu, session.mamba_backend)[0]),
                        run=lambda: run_scaling(name, "cuda", results)))
    jobs += [training_job(3, run, session) for run in runs[3]]
    jobs.append(Job(4, "training throughput, every Table 1 model eager and compiled (torch.compile)",
                    done=lambda: run_compile_benchmark(name, results_root=results, lookup_only=True) is not None,
                    estimate=lambda: benchmark_estimate("training-compiled", session, lambda: compile_benchmark_seconds(
                        preset, session.gpu, TABLE1_MODELS, BENCHMARK_STEPS + 3), ", compiling assumed"),
                    run=lambda: run_compile_benchmark(name, results_root=results)))
    jobs += [training_job(5, run, session) for run in runs[5]]
    jobs += recall_grid_jobs(session)
    jobs.append(Job(7, "official Mamba kernels: build causal-conv1d + mamba-ssm, parity tests, timing",
                    done=lambda: run_kernels_job(name, results_root=results, lookup_only=True) is not None,
                    estimate=lambda: benchmark_estimate("mamba-kernels", session, lambda: kernels_seconds(
                        preset, session.gpu, KERNEL_TIMED, BENCHMARK_STEPS + 2), ", build times assumed"),
                    run=lambda: passed(run_kernels_job(name, session.kernel_sources, results_root=results),
                                       "built", "parity_passed")))
    return jobs + [training_job(8, run, session) for run in runs[8]]


# --- the report -------------------------------------------------------------------------------------------------

def queue_lines(outcomes: list[Outcome]) -> list[str]:
    """One line per job (rank, name, estimate, measured, status) and the estimate's source under it."""
    lines = [f" rank  {'job':<78}{'estimate':>10}{'measured':>10}  status"]
    for outcome in outcomes:
        estimate = hours(outcome.estimate.seconds).strip() if outcome.estimate else "-"
        measured = hours(outcome.seconds).strip() if outcome.seconds is not None else "-"
        status = "done (finished record)" if outcome.status == "done" else outcome.status
        lines.append(f"{outcome.job.rank:>5}  {outcome.job.name:<78}{estimate:>10}{measured:>10}  {status}")
        if outcome.estimate and outcome.status != "done":
            lines.append(f"{'':7}estimate from {outcome.estimate.source}")
    return lines


def summary_lines(outcomes: list[Outcome], budget_s: float, margin: float, total_s: float, dry_run: bool) -> list[str]:
    count = {key: [o for o in outcomes if o.status.startswith(key)] for key in
             ("done", "would run", "ran", "failed", "skipped")}
    lines = [f"done before: {len(count['done'])} jobs; skipped (estimate x {margin:g} does not fit): "
             f"{len(count['skipped'])}"]
    if dry_run:
        planned = sum(o.estimate.seconds for o in count["would run"])
        return lines + [f"would run: {len(count['would run'])} jobs, about {hours(planned).strip()} estimated, of a "
                        f"budget of {hours(budget_s).strip()}"]
    worked = count["ran"] + count["failed"]
    return lines + [f"ran: {len(count['ran'])} jobs, failed: {len(count['failed'])}; their time "
                    f"{hours(sum(o.seconds for o in worked)).strip()} measured against "
                    f"{hours(sum(o.estimate.seconds for o in worked)).strip()} estimated",
                    f"session: {hours(total_s).strip()} of a budget of {hours(budget_s).strip()}"]


def environment_lines(session: Session) -> list[str]:
    """The device, what the estimates are for, and the versions (python, torch, CUDA, gamlib's commit)."""
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        device = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor}"
    else:
        device = "no CUDA GPU visible (this machine computes on its CPU)"
    return [f"device: {device}; estimates for {session.gpu_name} (cost-model class {session.gpu.name}); "
            f"Mamba backend for the estimates: {session.mamba_backend}",
            f"versions: python {sys.version.split()[0]}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
            f"gamlib commit {git_commit() or 'unknown (set GAMLIB_GIT_COMMIT)'}",
            f"results: {results_dir(session.results)}, preset {session.preset.name!r}"]


# --- the new records, packed --------------------------------------------------------------------------------------

def snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    """Every record file under `root` with its modification time and size."""
    return {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in Path(root).rglob("*.json")}


def new_records(root: Path, before: dict) -> list[Path]:
    """The record files under `root` written since `before` (new, or changed)."""
    return [path for path, stamp in sorted(snapshot(root).items()) if before.get(path) != stamp]


def pack_records(paths: list[Path], root: Path, out_dir, label: str) -> Path:
    """One tar.gz in `out_dir` holding `paths` as results/<path under root>: unpacked at a checkout's top, each
    record lands where it belongs."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"gpu-session-{label}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in paths:
            tar.add(path, arcname=str(Path("results") / path.relative_to(root)))
    return archive


# --- the command ------------------------------------------------------------------------------------------------

GPU_CHOICES = sorted({name for _, names in GPU_NAMES for name in names} | set(GPU_CLASSES))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gam-gpu-session", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[2:]))
    p.add_argument("--budget", type=float, required=True, metavar="SECONDS",
                   help="the session's time; leave room to copy the results off the machine")
    p.add_argument("--preset", default="paper", help="a GPU preset: paper (default) | colab")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                   help=f"a job starts when estimate x MARGIN fits the budget left (default {DEFAULT_MARGIN})")
    p.add_argument("--dry-run", action="store_true", help="print the queue, estimates and what is done; run nothing")
    p.add_argument("--gpu", choices=GPU_CHOICES, default=None,
                   help="the GPU the estimates are for (default: the visible one; needed for a dry run without one)")
    p.add_argument("--out", default=None, metavar="DIR", help="also pack the records this session wrote into one "
                   "tar.gz in DIR (for copying off a short-lived machine)")
    p.add_argument("--skip", type=int, nargs="+", default=(), metavar="RANK", help="leave out the jobs of these ranks")
    p.add_argument("--results", default=None, help="results folder (default: $GAMLIB_RESULTS_DIR or results/)")
    p.add_argument("--data-dir", default=None, help="local data folder (default: $GAMLIB_DATA_DIR, else the hub)")
    p.add_argument("--kernel-sources", default=None, metavar="DIR", help="the Mamba kernels' source releases (default: "
                   f"{OFFLINE_SOURCES}/ of the checkout when the offline bundle is there, else the package index)")
    p.add_argument("--save-every", type=int, default=500, help="training runs also save their state every N steps")
    p.add_argument("--colab-results", default=None, help="on Colab: 'drive' keeps records on Google Drive "
                   "(gamlib.colab), so each session continues where the last one stopped")
    return p


def make_session(args, error) -> Session:
    """The Session the command's arguments describe; `error` (argparse's) for what cannot work."""
    preset = get_preset(args.preset)
    if preset.hardware == "cpu":
        error(f"--preset {preset.name}: sized for a CPU; the GPU session runs a GPU preset (paper, colab)")
    gpu_name = args.gpu or (torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    if gpu_name is None:
        error(f"no CUDA GPU is visible: name the GPU the estimates are for, e.g. --dry-run --gpu H200 "
              f"(one of {', '.join(GPU_CHOICES)})")
    gpu_class = gpu_class_of(gpu_name) or (args.gpu and gpu_class_of(args.gpu)) or detect_gpu_class()
    if gpu_class is None:
        error(f"GPU {gpu_name!r} is none of the cost model's classes; name the closest with --gpu "
              f"({', '.join(GPU_CHOICES)})")
    offline = (project_root() or Path.cwd()) / OFFLINE_SOURCES
    sources = Path(args.kernel_sources) if args.kernel_sources else (offline if offline.is_dir() else None)
    return Session(preset, gpu_name, GPU_CLASSES[gpu_class], Path(args.results) if args.results else None,
                   args.data_dir, "mamba_ssm" if mamba_ssm_available() else "mambapy", sources, args.save_every)


def main(argv=None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.colab_results:
        from ..colab import use_results_folder
        use_results_folder(args.colab_results)
    session = make_session(args, p.error)
    if not args.dry_run and not torch.cuda.is_available():
        print("gpu-session: no CUDA GPU is visible, so nothing was run; --dry-run --gpu NAME prints the queue here.",
              file=sys.stderr)
        return 2
    print("\n".join(environment_lines(session)))
    print(f"budget {hours(args.budget).strip()}, safety margin x{args.margin:g}" + (" (dry run: nothing runs)"
                                                                                 if args.dry_run else ""))
    root, started = results_dir(session.results), time.monotonic()
    before = snapshot(root)
    jobs = [job for job in session_jobs(session) if job.rank not in args.skip]
    try:
        outcomes = run_session(jobs, args.budget, args.margin, dry_run=args.dry_run)
    except KeyboardInterrupt:
        print("\ninterrupted: finished runs are records; the same command resumes the one in flight", file=sys.stderr)
        outcomes = None
    finally:
        if args.out and not args.dry_run:
            written = new_records(root, before)
            print(f"new records: {len(written)}" + (f" -> {pack_records(written, root, args.out, session.preset.name)}"
                                                    if written else " (no archive)"))
    if outcomes is None:
        return 130
    print("\n" + "\n".join(queue_lines(outcomes)))
    print("\n".join(summary_lines(outcomes, args.budget, args.margin, time.monotonic() - started, args.dry_run)))
    return 1 if any(o.status.startswith("failed") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
