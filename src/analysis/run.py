"""Run the pipeline: papermill executes the stage notebooks, nbconvert renders the reports.

One run writes `outputs/<survey>/<run-id>/` with notebooks/, report/, data/, tables/ (with a
Frictionless `datapackage.json`), manifest.json and run.log. The last successful run is
named by `outputs/<survey>/latest.txt` (its run id, written atomically) and, where the
system allows symbolic links, by the link `outputs/<survey>/latest`; both move only after
every stage and every report succeeded, so a failed run keeps its own folder and leaves
`latest` as it was. A lock file per survey (filelock: Linux, macOS, Windows) keeps two runs
from interleaving; the next run that takes the lock marks runs that were killed as
"interrupted".

Every input (params file, codebook, themes, population margins, human coding, Forms exports,
mailboxes) is read once, at the start, into a private temporary snapshot outside outputs/:
the manifest's hashes and every stage come from the same bytes, even if a file is replaced
while the run goes on. The snapshot is deleted when the run ends; raw inputs are never
copied into outputs/ (they hold personal data).
"""
from __future__ import annotations

import ast
import contextlib
import copy
import datetime as dt
import errno
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence
from typing import Any

from . import paths

NOTEBOOK_DIR = paths.ROOT / "notebooks"
# The stages are the numbered notebooks, run in order: 01_clean, 02_ratings, 03_proposals, 04_summary.
# Parameters the run itself gives every notebook (not taken from the params file).
RUN_PARAMETERS = ("run_dir",)
EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_LOCKED = 0, 1, 2, 75  # 75 = EX_TEMPFAIL
DEFAULT_STAGE_TIMEOUT = 3600.0        # seconds one stage may take before it is stopped
# Files a params file names, read once into the snapshot (paths relative to the project root).
CONFIG_KEYS = ("codebook", "themes", "population")
LIST_KEYS = ("human_coding",)
DATA_KEY = "inputs"
# The kernel's own log lines ("running over TCP without encryption", "KeyboardInterrupt caught
# in kernel" at shutdown) are not ours and alarm anyone reading the console: keep them out.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


class RunError(Exception):
    """A run could not complete; `exit_code` says why (1 ours, 2 bad input, 75 locked)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE):
        super().__init__(message)
        self.exit_code = exit_code


class Terminated(BaseException):
    """SIGTERM (systemd stop, `kill`): the run ends as "interrupted", the lock is released."""


@dataclass
class Stage:
    name: str
    notebook: Path
    parameters: dict[str, Any]        # declared in the notebook's `parameters` cell
    # the earlier stages whose outputs it reads (notebook metadata analysis.needs); None: all of them
    needs: tuple[str, ...] | None = None


# --- the log: console and run.log ---------------------------------------------------------

class RunLog:
    """Our messages on the console (stderr) and, with timestamps, in the run folder's run.log.

    Lines said before the run folder exists are kept and written when it is attached. A log
    file that cannot be written (full disk) is given up quietly: the write that matters
    fails on its own and is reported as the run's error."""

    def __init__(self, console=None):
        self.console = console
        self.lines: list[str] = []
        self.path: Path | None = None
        self.warnings = 0

    def _stamp(self, level: str, message: str) -> str:
        return f"{dt.datetime.now().astimezone().isoformat(timespec='seconds')} {level:<7} {message}"

    def __call__(self, message: str, level: str = "INFO", console: bool = True) -> None:
        if console:
            print(message, file=self.console or sys.stderr, flush=True)
        line = self._stamp(level, message)
        if self.path is None:
            self.lines.append(line)
        else:
            self._append([line])

    def warn(self, message: str, console: bool = True) -> None:
        self.warnings += 1
        self(f"warning: {message}" if console else message, "WARNING", console)

    def attach(self, path: Path) -> None:
        self.path = path
        pending, self.lines = self.lines, []
        self._append(pending)

    def _append(self, lines: list[str]) -> None:
        if self.path is None or not lines:
            return
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
        except OSError:
            self.path = None          # no room or no rights: the run's own error says where


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- planning ---------------------------------------------------------------------------

def stage_names(notebook_dir: Path = NOTEBOOK_DIR) -> list[str]:
    return sorted(p.stem for p in notebook_dir.glob("[0-9][0-9]_*.ipynb"))


def available_stages(only: str | None = None, start: str | None = None,
                     notebook_dir: Path = NOTEBOOK_DIR) -> list[Stage]:
    """The stage notebooks to run, with their declared parameters (papermill.inspect_notebook).

    `--only X` reruns X and every stage after it: later stages read what earlier ones wrote,
    so a stage rerun alone would leave them built from older outputs under a new run id."""
    import papermill

    names = stage_names(notebook_dir)
    for wanted in (only, start):
        if wanted and _match_stage(wanted, names) is None:
            raise RunError(f"unknown stage {wanted!r}; stages: {', '.join(names)}", EXIT_BAD_INPUT)
    first = only or start
    if first:
        names = names[names.index(_match_stage(first, names)):]
    every = stage_names(notebook_dir)
    stages = []
    for name in names:
        nb = notebook_dir / f"{name}.ipynb"
        declared = papermill.inspect_notebook(str(nb))
        stages.append(Stage(name, nb, declared, _declared_needs(nb, every)))
    return stages


def _declared_needs(notebook: Path, names: list[str]) -> tuple[str, ...] | None:
    """The stages a notebook says it reads (metadata ``analysis.needs``: names or numbers of
    earlier stages); None when it says nothing or names a stage that is not an earlier one
    (then it waits for every earlier stage, the safe reading)."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
        wanted = meta.get("analysis", {}).get("needs")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(wanted, list):
        return None
    found = [_match_stage(str(w), names) for w in wanted]
    if any(f is None or f >= notebook.stem for f in found):
        return None
    return tuple(sorted(set(found)))


def _match_stage(wanted: str, names: list[str]) -> str | None:
    for name in names:
        if wanted in (name, name.split("_", 1)[0], name.split("_", 1)[-1]):
            return name
    return None


def check_parameters(params: dict[str, Any], stages: list[Stage], all_stages: list[Stage]) -> None:
    """A misspelled parameter is an error: every key must be declared by some notebook."""
    declared = {p for s in all_stages for p in s.parameters}
    unknown = sorted(k for k in params if k not in declared)
    if unknown:
        raise RunError(
            "unknown parameter(s) in the params file: " + ", ".join(unknown)
            + ". No notebook declares them; known parameters: " + ", ".join(sorted(declared)),
            EXIT_BAD_INPUT)
    for s in stages:
        for p in RUN_PARAMETERS:
            if p not in s.parameters:
                raise RunError(f"notebook {s.notebook.name} does not declare the parameter {p!r}")


def stage_parameters(params: dict[str, Any], stage: Stage, run_dir: Path) -> dict[str, Any]:
    values = {k: v for k, v in params.items() if k in stage.parameters}
    # no silent defaults: a params file without `population` is an unweighted run, never the
    # notebook's default margins (another survey's)
    if "population" in stage.parameters and not params.get("population"):
        values["population"] = ""
    # likewise a params file without `themes` has no theme dictionary (stage 03 says so and
    # analyses words only), never the notebook's default dictionary for another survey
    if "themes" in stage.parameters and not params.get("themes"):
        values["themes"] = ""
    values["run_dir"] = str(run_dir)
    return values


def notebook_defaults(stages: list[Stage]) -> dict[str, Any]:
    """The default of every parameter the notebooks declare (literal values only)."""
    out: dict[str, Any] = {}
    for s in stages:
        for name, spec in s.parameters.items():
            if name in out:
                continue
            with contextlib.suppress(ValueError, SyntaxError, TypeError):
                out[name] = ast.literal_eval(str(spec.get("default")))
    return out


# --- one read of every input: the snapshot --------------------------------------------------

class InputSnapshot:
    """A private copy of every input, taken once, hashed from the bytes copied.

    Relative paths of config files are mirrored (snapshot/params/codebooks/x.yaml) and found
    through $ANALYSIS_SNAPSHOT by paths.resolve, so the parameters the stages see, and the
    paths their tables record, stay as the params file says. Forms exports and mailboxes are
    given to stage 01 as absolute snapshot paths. A folder of .eml files is hashed as one
    entry (folder, count, hash): an .eml file's own name can be a person's name."""

    def __init__(self, params_file: Path, params_bytes: bytes, params: dict[str, Any],
                 defaults: dict[str, Any]):
        self.params_file = params_file
        self.original = params
        self.params = copy.deepcopy(params)
        self.dir = Path(tempfile.mkdtemp(prefix="analysis-inputs-"))
        self.hashes: dict[str, Any] = {_label(params_file): hashlib.sha256(params_bytes).hexdigest()}
        self._back: list[tuple[str, str]] = []
        try:
            self._take(defaults)
            # copy -> original, so that tables name a file as the params gave it (paths.as_given)
            (self.dir / paths.SNAPSHOT_ORIGINALS).write_text(
                json.dumps(dict(self._back), ensure_ascii=False), encoding="utf-8")
        except BaseException:
            self.cleanup()
            raise

    # where things go
    def _fail(self, key: str, message: str) -> RunError:
        return RunError(f"{self.params_file}: {key}: {message}", EXIT_BAD_INPUT)

    def _copy(self, src: Path, dst: Path, key: str) -> str:
        """Copy src to dst, hashing the very bytes copied; return the sha256."""
        h = hashlib.sha256()
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(src, "rb") as fin, open(dst, "wb") as fout:
                for block in iter(lambda: fin.read(1 << 20), b""):
                    h.update(block)
                    fout.write(block)
        except FileNotFoundError:
            raise self._fail(key, f"file not found: {src}") from None
        except IsADirectoryError:
            raise self._fail(key, f"{src} is a folder; expected a file") from None
        except OSError as exc:
            if exc.filename and Path(exc.filename) == Path(src):
                raise self._fail(key, f"cannot read {src}: {exc.strerror or exc}") from None
            raise RunError(f"cannot copy the inputs into the private snapshot {self.dir}: "
                           f"{exc.strerror or exc}") from None
        self._back.append((str(dst), str(src)))
        return h.hexdigest()

    def _mirror(self, value: str, key: str) -> str:
        """A config file: mirrored when relative (the params keep their value), else rewritten."""
        rel = Path(value)
        src = rel if rel.is_absolute() else paths.ROOT / rel
        if rel.is_absolute() or ".." in rel.parts:
            dst = self.dir / "abs" / key.replace(".", "-") / rel.name
            self.hashes[_label(src)] = self._copy(src, dst, key)
            return str(dst)
        self.hashes[_label(src)] = self._copy(src, self.dir / rel, key)
        return value

    def _take(self, defaults: dict[str, Any]) -> None:
        # a notebook's default stands in for a missing key, except the population margins:
        # without `population` the run is unweighted (run.stage_parameters passes "")
        effective = {**{k: v for k, v in defaults.items() if k != "population"}, **self.original}
        for key in CONFIG_KEYS:
            value = effective.get(key)
            if isinstance(value, str) and value.strip():
                new = self._mirror(value, key)
                if new != value:
                    self.params[key] = new
        for key in LIST_KEYS:
            values = effective.get(key)
            if isinstance(values, list) and values:
                self.params[key] = [self._mirror(str(v), f"{key}[{i}]") for i, v in enumerate(values)]
        inputs = effective.get(DATA_KEY)
        if isinstance(inputs, dict):
            self.params[DATA_KEY] = {group: self._data_group(group, entries)
                                     for group, entries in inputs.items()}

    def _data_group(self, group: str, entries: Any) -> Any:
        from .ingest import FORMS_EXTENSIONS, MAIL_EXTENSIONS

        if entries is None:
            return None
        listed = [entries] if isinstance(entries, (str, Path)) else list(entries)
        out: list[str] = []
        for i, entry in enumerate(listed):
            key = f"{DATA_KEY}.{group}" + (f"[{i}]" if not isinstance(entries, (str, Path)) else "")
            matches = paths.expand_input(str(entry))
            if not matches:
                where = paths.resolve(str(entry)) if not Path(str(entry)).is_absolute() else entry
                raise self._fail(key, f"{str(entry)!r} matches no file (looked for {where})")
            files: list[Path] = []
            emls: list[Path] = []
            folders: list[Path] = []
            for m in matches:
                if m.is_dir():
                    inner = sorted(m.iterdir())
                    if any(f.suffix.lower() == ".eml" for f in inner):
                        emls.extend(f for f in inner if f.suffix.lower() == ".eml" and f.is_file())
                    else:
                        chosen = [f for f in inner if f.is_file()
                                  and f.suffix.lower() in FORMS_EXTENSIONS + MAIL_EXTENSIONS]
                        files.extend(chosen)
                        if not chosen:
                            folders.append(m)
                elif m.suffix.lower() == ".eml":
                    emls.append(m)
                else:
                    files.append(m)
            base = self.dir / DATA_KEY / f"{group}-{i}"
            for f in files:
                self.hashes[_label(f)] = self._copy(f, base / f.name, key)
                out.append(str(base / f.name))
            for folder in folders:            # an empty mail folder: "no messages yet", as before
                (base / folder.name).mkdir(parents=True, exist_ok=True)
                self._back.append((str(base / folder.name), str(folder)))
                out.append(str(base / folder.name))
            if emls:
                by_folder: dict[Path, list[Path]] = {}
                for f in emls:
                    by_folder.setdefault(f.parent, []).append(f)
                for j, (folder, members) in enumerate(sorted(by_folder.items())):
                    dst = base / f"eml-{j}" / folder.name
                    digest = hashlib.sha256()
                    for f in sorted(members):
                        digest.update(self._copy(f, dst / f.name, key).encode())
                    self._back.append((str(dst), str(folder)))
                    self.hashes[_label(folder) + "/*.eml"] = {"files": len(members),
                                                               "sha256": digest.hexdigest()}
                    out.append(str(dst))
        return out

    def translate(self, text: str) -> str:
        """A message about a snapshot file, with the original's path instead."""
        for snap, original in sorted(self._back, key=lambda p: -len(p[0])):
            text = text.replace(snap, original)
        return text.replace(str(self.dir) + os.sep, "")

    @contextlib.contextmanager
    def active(self):
        """$ANALYSIS_SNAPSHOT set for this process and the kernels it starts."""
        before = os.environ.get(paths.SNAPSHOT_ENV)
        os.environ[paths.SNAPSHOT_ENV] = str(self.dir)
        try:
            yield self
        finally:
            if before is None:
                os.environ.pop(paths.SNAPSHOT_ENV, None)
            else:
                os.environ[paths.SNAPSHOT_ENV] = before

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _label(path: Path | str) -> str:
    p = Path(path)
    with contextlib.suppress(ValueError):
        return str(Path(os.path.abspath(p)).relative_to(paths.ROOT))
    return str(p)


# --- the run ------------------------------------------------------------------------------

def new_run_id(base: Path) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id, i = stamp, 1
    while (base / run_id).exists():
        i += 1
        run_id = f"{stamp}-{i}"
    return run_id


@contextlib.contextmanager
def survey_lock(survey_dir: Path, wait: float = 0.0):
    """Hold an exclusive lock on outputs/<survey>/.lock; wait up to `wait` s, else refuse.

    filelock works on Linux, macOS and Windows; who holds the lock is written beside it."""
    from filelock import FileLock, Timeout

    survey_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(survey_dir / ".lock"))
    holder = survey_dir / ".lock.holder"
    try:
        lock.acquire(timeout=max(0.0, wait), poll_interval=0.25)
    except Timeout:
        try:
            who = holder.read_text(encoding="utf-8").strip()
        except OSError:
            who = ""
        raise RunError(f"another run of this survey is in progress ({who or 'another process'}); "
                       f"try again later or pass --wait SECONDS", EXIT_LOCKED) from None
    try:
        with contextlib.suppress(OSError):
            holder.write_text(f"pid {os.getpid()} on {platform.node()} since "
                              f"{dt.datetime.now().isoformat(timespec='seconds')}\n", encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            holder.unlink()
        lock.release()


def point_latest(survey_dir: Path, run_id: str) -> None:
    """Move `latest` to a run: latest.txt (replaced atomically), and the symlink where allowed."""
    pointer = survey_dir / paths.LATEST_POINTER
    tmp = survey_dir / f".latest-{os.getpid()}.txt"
    tmp.write_text(run_id + "\n", encoding="utf-8")
    os.replace(tmp, pointer)
    link_tmp = survey_dir / f".latest-{os.getpid()}"
    try:
        with contextlib.suppress(FileNotFoundError):
            link_tmp.unlink()
        link_tmp.symlink_to(run_id, target_is_directory=True)
        os.replace(link_tmp, survey_dir / "latest")
    except (OSError, NotImplementedError):
        # no symbolic links here (Windows without the privilege, some network drives):
        # latest.txt is the pointer every tool reads; a link left from before would mislead
        with contextlib.suppress(OSError):
            link_tmp.unlink()
        link = survey_dir / "latest"
        if link.is_symlink():
            with contextlib.suppress(OSError):
                link.unlink()


def mark_interrupted(survey_dir: Path, say: RunLog) -> list[str]:
    """Runs whose manifest still says "running" were killed: we hold the lock, so none is live."""
    marked = []
    for manifest in sorted(survey_dir.glob("*/manifest.json")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("status") != "running":
            continue
        data["status"] = "interrupted"
        data["interrupted_noticed"] = _now()
        data.setdefault("error", "the run stopped before it finished (killed, or the machine went "
                                 "down); noticed by the next run of the survey")
        try:
            _write_json(manifest, data)
        except OSError as exc:
            say.warn(f"could not mark {manifest.parent.name} as interrupted: {exc.strerror or exc}")
            continue
        marked.append(manifest.parent.name)
        say(f"earlier run {manifest.parent.name} never finished; marked as interrupted")
    return marked


def execute_stage(stage: Stage, parameters: dict[str, Any], out_nb: Path,
                  timeout: float | None = None, kernel: Kernel | None = None) -> None:
    """Execute one stage notebook with papermill; `kernel`: its kernel, started ahead."""
    import papermill
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    running: dict[str, Any] = {"cell": None, "n": 0}
    kwargs: dict[str, Any] = {"extra_arguments": KERNEL_ARGUMENTS}
    if kernel is not None:     # ready once its imports are loaded: wait for that, not the default 60 s
        kwargs.update(kernel_manager_class=kernel.manager_class(), start_timeout=math.ceil(WARM_UP_TIMEOUT))
    if timeout:
        deadline = time.monotonic() + timeout

        def remaining(cell):                  # the stage's budget, not each cell's
            running["cell"], running["n"] = cell, running["n"] + 1
            return max(1, math.ceil(deadline - time.monotonic()))

        kwargs.update(execution_timeout=max(1, math.ceil(timeout)), timeout_func=remaining)
    try:
        try:
            papermill.execute_notebook(
                str(stage.notebook), str(out_nb), parameters=parameters, kernel_name="python3",
                cwd=str(stage.notebook.parent), progress_bar=_progress_bar(stage.name),
                request_save_on_cell_execute=False, log_output=False, **kwargs)
        finally:
            if kernel is not None:    # nbclient stopped it, unless papermill failed before using it
                kernel.shutdown()
    except PapermillExecutionError as exc:
        reason = _input_error_reason(exc)
        raise RunError(
            f"stage {stage.name} failed in cell {exc.exec_count or exc.cell_index} "
            f"({exc.ename}: {_one_line(str(exc.evalue))[:500]}); the executed notebook is kept at {out_nb}",
            EXIT_BAD_INPUT if reason else EXIT_FAILURE) from None
    except CellTimeoutError:
        cell = running["cell"] or {}
        number = cell.get("execution_count") or running["n"]
        first = _one_line(str(cell.get("source", "")).strip().splitlines()[0] if cell.get("source") else "")
        raise RunError(
            f"stage {stage.name} timed out in cell {number} ({first[:80]!r}): the stage was still "
            f"running after {timeout:g} s; the kernel was stopped (raise the limit with --timeout SECONDS)",
            EXIT_FAILURE) from None


# --- kernels started ahead of their stage ------------------------------------------------------
# A stage's kernel is started while the stage before it runs (the first one while the inputs are
# checked), and loads the modules its notebook imports: a stage's first cells no longer wait on
# Python loading pandas, scipy, matplotlib and our package, the other core does it meanwhile.
# Only import statements run ahead (never a cell), so every stage still sees the outputs of the
# stages before it, runs its cells in order, and writes what it wrote before.
WARM_UP_TIMEOUT = 600.0     # seconds a kernel may take to start and load its notebook's imports


def notebook_imports(notebook: Path) -> list[str]:
    """The modules a notebook's code cells import (every import statement, in cell order);
    `from a import b` names both `a` and `a.b` (b may be a module)."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return []
    found: list[tuple[int, int, str]] = []
    for number, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        try:
            tree = ast.parse("".join(source) if isinstance(source, list) else str(source))
        except SyntaxError:                   # IPython magics: that cell's imports load in the cell
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((number, node.lineno, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((number, node.lineno, node.module))
                found.extend((number, node.lineno, f"{node.module}.{a.name}")
                             for a in node.names if a.name != "*")
    return list(dict.fromkeys(name for _, _, name in sorted(found)))


def warm_up(modules: list[str], preload: bool = True, params: dict[str, Any] | None = None) -> list[str]:
    """Run inside a stage's kernel before its notebook: import `modules` (one that fails is left
    for the notebook's own import to report, in its cell), then, with `preload`, call `preload()`
    of every module of this package that defines one (resources that take long to load: on small
    inputs the stage would wait on them; on big ones they would only sit in memory early while
    the stage before runs); a `preload` that takes an argument gets `params` (the run's
    configuration files: codebook, themes). Returns the warnings raised meanwhile, formatted as
    Python prints them, for the run's log."""
    import importlib
    import inspect
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the notebook's import raises it again, in its cell
                pass
        package = __package__ or "analysis"
        for name in sorted(m for m in list(sys.modules) if preload and m.startswith(package + ".")):
            preload = getattr(sys.modules.get(name), "preload", None)
            if callable(preload):
                try:
                    preload(params or {}) if inspect.signature(preload).parameters else preload()
                except Exception:  # noqa: BLE001 - the stage loads it again and reports any error
                    pass
    return [warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line) for w in caught]


class Kernel:
    """A stage's kernel, started ahead and loading its notebook's imports in the background.

    papermill is given it through `kernel_manager_class` (`manager_class()`), so that nbclient
    treats it as its own: it connects, waits until the kernel is ready (the imports are done),
    runs the cells and shuts the kernel down, exactly as with a kernel it starts itself."""

    def __init__(self, stage: Stage, preload: bool = True, params: dict[str, Any] | None = None,
                 on_ready: Callable[[], Any] | None = None):
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        self.stage = stage
        self.on_ready = on_ready          # called in its loading thread once loaded (or given up)
        self.warnings: list[str] = []
        self._stop = threading.Event()
        self.km = AsyncKernelManager(kernel_name="python3")
        run_sync(self.km.start_kernel)(extra_arguments=KERNEL_ARGUMENTS + ["--HistoryManager.hist_file=:memory:"],
                                       cwd=str(stage.notebook.parent))
        self._thread = threading.Thread(target=self._warm, args=(notebook_imports(stage.notebook), preload, params),
                                        name=f"warm-{stage.name}", daemon=True)
        self._thread.start()

    def _warm(self, modules: list[str], preload: bool, params: dict[str, Any] | None) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        try:
            kc.load_connection_info(self.km.get_connection_info())
            kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            expression = f"__import__({__name__!r}, fromlist=['warm_up']).warm_up({modules!r}, {preload!r}, {params!r})"
            msg_id = kc.execute("pass", silent=True, store_history=False, allow_stdin=False,
                                user_expressions={"warnings": expression})
            deadline = time.monotonic() + WARM_UP_TIMEOUT
            while time.monotonic() < deadline:
                try:
                    reply = kc.get_shell_msg(timeout=0.5)
                except Exception:  # noqa: BLE001 - queue.Empty: no reply yet (read before giving up)
                    if self._stop.is_set():
                        return
                    continue
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    result = reply["content"].get("user_expressions", {}).get("warnings", {})
                    if result.get("status") == "ok":
                        self.warnings = list(ast.literal_eval(result["data"]["text/plain"]))
                    return
        except Exception:  # noqa: BLE001 - a warm-up is an optimisation; the stage runs regardless
            return
        finally:
            with contextlib.suppress(Exception):
                kc.stop_channels()
            if self.on_ready is not None:
                with contextlib.suppress(Exception):
                    self.on_ready()

    def loaded_warnings(self) -> list[str]:
        """The warnings its imports raised (known once the stage ran: the kernel loads first)."""
        self._thread.join(timeout=1)
        return list(self.warnings)

    def manager_class(self) -> type:
        """A kernel manager "class" for nbclient whose construction hands over this kernel."""
        from jupyter_client.manager import AsyncKernelManager

        km = self.km

        class Started(AsyncKernelManager):
            def __new__(cls, *args, **kwargs):
                return km

        return Started

    @classmethod
    def try_start(cls, stage: Stage, preload: bool = True, params: dict[str, Any] | None = None) -> Kernel | None:
        """A kernel for `stage` started now, or None (papermill then starts its own)."""
        try:
            return cls(stage, preload, params)
        except Exception:  # noqa: BLE001 - an optimisation only
            return None

    def kill(self) -> None:
        """Kill the kernel's process at once (its stage is being abandoned; safe from any thread)."""
        self._stop.set()
        with contextlib.suppress(Exception):
            self.km.provisioner.process.kill()

    def shutdown(self) -> None:
        """Stop the kernel if nbclient did not (a run that failed before this stage)."""
        from jupyter_core.utils import run_sync

        self._stop.set()
        with contextlib.suppress(Exception):
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)


class Kernels:
    """The kernels started ahead: `ahead(stage)` starts one, `take(stage)` hands it to the stage,
    `close()` stops those never used (a run that stopped early).

    `ahead_in_turn(stages)` starts the first stage's kernel now and each next one when the one
    before it has loaded: kernels loading at once share the free core and each is ready later
    than it would be alone, so the stage that is waited for most (first in the list) gets it
    first. A stage taken before its turn gets its kernel started at once."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.preload = True          # set per run: small inputs only (see SMALL_INPUTS); also decides side by side
        self.params: dict[str, Any] = {}   # the run's configuration files, for preload(params)
        self._started: dict[str, Kernel] = {}
        self._pending: list[Stage] = []
        self._lock = threading.Lock()

    def ahead(self, stage: Stage | None, on_ready: Callable[[], Any] | None = None) -> None:
        with self._lock:
            if not self.enabled or stage is None or stage.name in self._started:
                return
        try:
            kernel = Kernel(stage, self.preload, self.params, on_ready=on_ready)
        except Exception:  # noqa: BLE001 - no kernel ahead: papermill starts one as before
            if on_ready is not None:
                on_ready()
            return
        with self._lock:
            self._started[stage.name] = kernel

    def ahead_in_turn(self, stages: Sequence[Stage]) -> None:
        stages = [s for s in stages if s is not None]
        if not stages:
            return
        with self._lock:
            self._pending = list(stages[1:])
        self.ahead(stages[0], on_ready=self._next_in_turn)

    def _next_in_turn(self) -> None:
        with self._lock:
            if not self._pending:
                return
            stage = self._pending.pop(0)
        self.ahead(stage, on_ready=self._next_in_turn)

    def take(self, stage: Stage) -> Kernel | None:
        with self._lock:
            waiting = [s for s in self._pending if s.name == stage.name]
            self._pending = [s for s in self._pending if s.name != stage.name]
        if waiting:                   # its turn has not come: start it now
            self.ahead(stage)
        with self._lock:
            return self._started.pop(stage.name, None)

    def close(self) -> None:
        with self._lock:
            self._pending = []
            started, self._started = list(self._started.values()), {}
        for kernel in started:
            kernel.shutdown()


def critical_first(stages: Sequence[Stage], previous: dict[str, float]) -> list[Stage]:
    """The stages of a wave in the order their kernels load (`Kernels.ahead_in_turn`): longest
    first by the survey's previous run (its manifest's stage seconds), the one waited for; without
    one, the stage that runs beside the first (in this workspace 03_proposals, whose kernel also
    preloads the text resources), then the rest in order."""
    stages = list(stages)
    if len(stages) < 2:
        return stages
    if all(s.name in previous for s in stages):
        return sorted(stages, key=lambda s: -previous[s.name])
    return stages[1:] + stages[:1]


def _previous_seconds(survey_dir: Path) -> dict[str, float]:
    """Stage seconds of the survey's last successful run ({} if none or unreadable)."""
    try:
        latest = paths.latest_run(survey_dir)
        if latest is None:
            return {}
        stages = json.loads((latest / "manifest.json").read_text(encoding="utf-8")).get("stages", {})
        return {k: float(v["seconds"]) for k, v in stages.items() if isinstance(v, dict) and v.get("seconds")}
    except Exception:  # noqa: BLE001 - an order of loading only
        return {}


# --- two stages side by side ------------------------------------------------------------------
# A stage whose notebook declares the earlier stages it reads (metadata analysis.needs) runs beside
# the stage before it when it does not read that stage's outputs: 02_ratings and 03_proposals both
# read only what 01_clean wrote, and their two kernels use the two cores. The stage beside runs in
# a private copy of the run folder's data/, tables/ and figures/, and what it wrote moves into the
# run folder once both are done, so every stage's `wrote` in the manifest is its own and neither
# sees a half-written file of the other. Two stages at once hold both their peaks of memory: from
# SMALL_INPUTS bytes of inputs (exports and mailboxes, about 70,000 responses) they run one
# after the other, and ANALYSIS_SIDE_BY_SIDE=0 turns it off. The tables are the same either way
# (tested). The same size decides whether kernels started ahead also preload their stage's
# resources (warm_up): at 10^5 responses that moved ~130 MB into the previous stage's peak and
# saved nothing measurable of a 70 s stage.
SMALL_INPUTS = 32 << 20


def _small(params: dict[str, Any]) -> bool:
    return _input_bytes(params) < SMALL_INPUTS


def _side_by_side(small: bool) -> bool:
    """Two stages at once? `small`: the run's inputs are under SMALL_INPUTS (measured once, by _run)."""
    if os.environ.get("ANALYSIS_SIDE_BY_SIDE", "1").strip() in ("0", "false", "no", "off"):
        return False
    return (os.cpu_count() or 1) >= 2 and small


def plan_waves(stages: list[Stage], names: list[str], side_by_side: bool) -> list[list[Stage]]:
    """The stages in the order they run, in waves of one or two: a stage joins the one before
    it when it declares what it reads and that stage is not among it."""
    waves: list[list[Stage]] = []
    i = 0
    while i < len(stages):
        first = stages[i]
        if side_by_side and i + 1 < len(stages):
            second = stages[i + 1]
            done = set(names[:names.index(first.name)]) if first.name in names else set()
            if second.needs is not None and first.name not in second.needs and set(second.needs) <= done:
                waves.append([first, second])
                i += 2
                continue
        waves.append([first])
        i += 1
    return waves


class _Once:
    """A callable that runs its function the first time it is called, from whichever thread."""

    def __init__(self, fn: Callable[[], Any]):
        self._fn, self._lock, self._done = fn, threading.Lock(), False

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        self._fn()


class Beside:
    """One stage executed in a thread, in a private copy of the run folder's outputs
    (run_dir/.beside-<stage>: a hidden folder no stage lists among what it wrote)."""

    def __init__(self, stage: Stage, run_dir: Path, params: dict[str, Any], out_nb: Path,
                 timeout: float | None, kernel: Kernel | None, on_done: Callable[[], Any] | None = None):
        self.stage, self.run_dir, self.out_nb, self.kernel = stage, run_dir, out_nb, kernel
        self.on_done = on_done            # called in its thread when the stage ends (ok or not)
        self.folder = run_dir / f".beside-{stage.name}"
        shutil.rmtree(self.folder, ignore_errors=True)
        for sub in ("data", "tables", "figures"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
            for f in (run_dir / sub).rglob("*"):
                if f.is_file():
                    target = self.folder / f.relative_to(run_dir)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, target)   # a copy, not a link: a file rewritten in place stays private
        self.before = _file_state(self.folder)
        self.error: BaseException | None = None
        self.seconds: float | None = None
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(
            target=self._work, args=(stage_parameters(params, stage, self.folder), timeout),
            name=f"beside-{stage.name}", daemon=True)
        self._thread.start()

    def _work(self, parameters: dict[str, Any], timeout: float | None) -> None:
        try:
            execute_stage(self.stage, parameters, self.out_nb, timeout, self.kernel)
        except BaseException as exc:  # noqa: BLE001 - raised in the run's thread by finish()
            self.error = exc
        finally:
            self.seconds = round(time.perf_counter() - self._t0, 2)
            if self.on_done is not None and self.error is None:
                with contextlib.suppress(Exception):
                    self.on_done()

    def stop(self) -> None:
        """Abandon the stage (the one beside it failed or the run was interrupted)."""
        if self.kernel is not None:
            self.kernel.kill()
        self._thread.join(timeout=30)

    def finish(self, beside_wrote: list[str] = ()) -> list[str]:
        """Wait for the stage; move what it wrote into the run folder; return those files.
        `beside_wrote`: what the stage beside it wrote; a file both wrote is an error (their
        notebooks' analysis.needs say they are independent, and they are not)."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        wrote = _changed(self.before, _file_state(self.folder))
        both = sorted(set(wrote) & set(beside_wrote))
        if both:
            raise RunError(f"stages run side by side both wrote {', '.join(both)}: {self.stage.name} "
                           f"cannot run beside the stage before it; remove analysis.needs from the "
                           f"metadata of {self.stage.notebook} (or set ANALYSIS_SIDE_BY_SIDE=0)")
        for rel in wrote:
            target = self.run_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / rel, target)
        # the executed notebook names the run folder, not the private copy it ran in
        if self.out_nb.is_file():
            text = self.out_nb.read_text(encoding="utf-8")
            private, public = (json.dumps(str(p))[1:-1] for p in (self.folder, self.run_dir))
            if private in text:
                tmp = self.out_nb.with_name(self.out_nb.name + ".tmp")
                tmp.write_text(text.replace(private, public), encoding="utf-8")
                os.replace(tmp, self.out_nb)
        return wrote

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class ReportsAhead:
    """While the last stage runs, the pages of the stages before it (nbconvert, the costly part
    of rendering) are made in a thread, in memory, and the workbook of the tables so far in a
    child interpreter, into a hidden folder of the run (run_dir/.report-ahead, outside data/,
    tables/, figures/: nothing a stage's `wrote` could list). render_run finishes them after the
    last stage: the pages get their navigation bar, the workbook moves into tables/ unless the
    last stage wrote tables (then it is written again). Any error here is left for render_run to
    raise, as before.

    Earlier too, when a stage ends while the one beside it still runs (a core is free): `only`
    names the finished stages whose pages are made then, and the workbook's child interpreter is
    started, to load its imports and wait (the tables are not all written yet). The last stage's
    ReportsAhead takes those (`before`) and does the rest."""

    def __init__(self, run_dir: Path, params: dict[str, Any], skip: str | None = None,
                 only: Sequence[str] | None = None, before: "ReportsAhead | None" = None):
        self.run_dir = run_dir
        self.folder = run_dir / ".report-ahead"
        self.pages = None
        self._before = before
        self._thread = threading.Thread(target=self._work, args=(params, skip, only), name="reports-ahead",
                                        daemon=True)
        self._thread.start()

    def _work(self, params: dict[str, Any], skip: str | None, only: Sequence[str] | None) -> None:
        try:
            from . import report_html

            pages = None
            if self._before is not None:
                self._before._thread.join()
                pages = self._before.pages
            pages = pages or report_html.RunPages(self.run_dir, params)
            self.folder.mkdir(exist_ok=True)
            if only is None:
                pages.start_workbook(self.folder / "tables.xlsx")     # a child process, beside the pages
            else:
                pages.spawn_workbook_child()
            self.pages = pages
            for nb in sorted((self.run_dir / "notebooks").glob("*.ipynb")):
                if nb.stem != skip and (only is None or nb.stem in only):
                    pages.prepare(nb.stem)
        except Exception:  # noqa: BLE001 - render_run makes what is missing and raises any error
            pass

    def result(self, stale: bool):
        """The prepared pages (None if none); `stale`: the last stage wrote tables (redo the workbook)."""
        self._thread.join()
        if self.pages is not None and stale:
            self.pages.forget_workbook()
        return self.pages

    def cleanup(self) -> None:
        self._thread.join()
        for ahead in (self, self._before):
            if ahead is not None and ahead.pages is not None:
                ahead.pages.stop_workbook()     # a run stopped before render_run waited for it
        shutil.rmtree(self.folder, ignore_errors=True)


def _progress_bar(name: str):
    """A progress bar on a terminal; none in a log file (cron, systemd): there it would only
    leave carriage returns and half-drawn bars around our messages."""
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        return False
    return {"desc": name, "file": stream, "leave": False}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _input_error_reason(exc) -> bool:
    return exc.ename in ("InputError", "CodebookError", "SchemaError", "CodingFileError")


@dataclass
class _Writing:
    """What the run is writing now: a disk error without a file name is reported against it."""
    path: Path
    history: list[str] = field(default_factory=list)


def disk_error(exc: OSError, fallback: Path | None = None) -> str:
    """One line naming the path and the cause of a failed write."""
    where = exc.filename or fallback or "the output folder"
    cause = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    hint = {errno.ENOSPC: "; free some space and run again",
            errno.EROFS: "; choose a writable folder with --out",
            errno.EACCES: "; check the folder's permissions or choose another with --out",
            errno.EPERM: "; check the folder's permissions or choose another with --out"}
    return f"cannot write {where}: {cause}{hint.get(exc.errno, '')}"


def run(params_file: str | Path = paths.DEFAULT_PARAMS, out: str | Path | None = None,
        only: str | None = None, start: str | None = None, wait: float = 0.0,
        render: bool = True, skip_checks: bool = False,
        notebook_dir: Path = NOTEBOOK_DIR, timeout: float | None = DEFAULT_STAGE_TIMEOUT,
        console=None) -> Path:
    """Run the stages and render the reports; return the run folder. Raises RunError."""
    say = RunLog(console)
    with _warnings_to(say):
        return _run(params_file, out, only, start, wait, render, skip_checks, notebook_dir, timeout, say)


@contextlib.contextmanager
def _warnings_to(say: RunLog):
    """Python warnings raised in this process (libraries' deprecations, nbformat's notes) go to
    run.log, not the console: the console shows our messages and the progress bars only."""
    import warnings

    before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        say.warn(f"{category.__name__}: {_one_line(str(message))[:300]} ({Path(filename).name}:{lineno})",
                 console=False)

    warnings.showwarning = show
    # papermill's and nbclient's own log lines ("Timeout waiting for execute reply", "Executing
    # notebook with kernel") belong in run.log too
    import logging

    class ToRunLog(logging.Handler):
        def emit(self, record):
            with contextlib.suppress(Exception):
                say.warn(f"{record.name}: {_one_line(record.getMessage())[:300]}", console=False)

    handler = ToRunLog(logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("papermill", "nbclient", "traitlets")]
    saved = [(lg, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.propagate = False
    try:
        yield
    finally:
        warnings.showwarning = before
        for lg, propagate in saved:
            lg.removeHandler(handler)
            lg.propagate = propagate


def _run(params_file, out, only, start, wait, render, skip_checks, notebook_dir, timeout,
         say: RunLog) -> Path:
    try:
        params_path, params_bytes, params = paths.read_params(params_file)
    except FileNotFoundError as exc:
        raise RunError(str(exc), EXIT_BAD_INPUT) from None
    except ValueError as exc:
        raise RunError(str(exc), EXIT_BAD_INPUT) from None
    try:
        key = "survey" if params.get("survey") is not None else "survey (from the params file's name)"
        survey = paths.check_survey_name(params.get("survey") or params_path.stem, key)
        if out:
            survey_dir = Path(os.path.abspath(Path(out).expanduser()))
        else:
            survey_dir = paths.survey_dir(survey)
    except paths.PathError as exc:
        raise RunError(f"{params_path}: {exc}", EXIT_BAD_INPUT) from None
    all_stages = available_stages(notebook_dir=notebook_dir)
    stages = available_stages(only, start, notebook_dir)
    if not stages:
        raise RunError(f"no stage notebooks found in {notebook_dir}")
    check_parameters(params, stages, all_stages)
    if Path(notebook_dir).resolve() == NOTEBOOK_DIR.resolve():
        # the project's stages: every key typed and in range (even with --skip-checks), exit 2
        # naming file and key (analysis.config describes these notebooks' parameters)
        from . import config
        _, bad_params = config.parse_params(params, source=params_path)
        if bad_params:
            raise RunError("; ".join(str(e) for e in bad_params), EXIT_BAD_INPUT)
    first_stage = stages[0].name == all_stages[0].name
    if only or start:
        later = [s.name for s in stages[1:]]
        say(f"rerunning {stages[0].name}" + (f" and the stages that read its outputs: {', '.join(later)}"
                                             if later else ""))

    snapshot = InputSnapshot(params_path, params_bytes, params, notebook_defaults(all_stages))
    kernels = Kernels()
    try:
        with snapshot.active():
            kernels.preload = _small(snapshot.params)
            kernels.params = {k: snapshot.params[k] for k in CONFIG_KEYS if isinstance(snapshot.params.get(k), str)}
            kernels.ahead(stages[0])      # the first stage's kernel loads while the inputs are checked
            if not skip_checks and first_stage:
                _check_inputs_or_stop(snapshot, say)
            writing = _Writing(survey_dir / ".lock")
            try:
                with survey_lock(survey_dir, wait):
                    return _run_locked(params_path, params, snapshot, stages, survey_dir, render,
                                       first_stage, timeout, say, writing, kernels)
            except OSError as exc:
                raise RunError(snapshot.translate(disk_error(exc, writing.path)), EXIT_FAILURE) from None
    finally:
        kernels.close()
        snapshot.cleanup()


def _run_locked(params_path, params, snapshot, stages, survey_dir, render, first_stage, timeout,
                say: RunLog, writing: _Writing, kernels: Kernels | None = None) -> Path:
    kernels = kernels or Kernels(enabled=False)
    mark_interrupted(survey_dir, say)
    run_id = new_run_id(survey_dir)
    run_dir = paths.inside(survey_dir / run_id, survey_dir, "run folder")
    writing.path = run_dir
    dirs = paths.run_dirs(run_dir)
    say.attach(run_dir / "run.log")
    say(f"run {run_id} of {params.get('survey') or params_path.stem} "
        f"(params {params_path}; output {run_dir})", console=False)
    manifest = _manifest_start(params_path, params, run_id, stages, snapshot)
    ahead: ReportsAhead | None = None
    writing.path = run_dir / "manifest.json"
    _write_json(run_dir / "manifest.json", _public(manifest))
    try:
        if not first_stage:                  # later stages read what earlier ones wrote
            writing.path = run_dir
            manifest["seeded_from"] = _seed_from_latest(survey_dir, run_dir, stages, manifest, say)
        ahead = None
        waves = plan_waves(stages, stage_names(stages[0].notebook.parent), _side_by_side(kernels.preload))
        previous = _previous_seconds(survey_dir)
        for w, wave in enumerate(waves):
            stage = wave[0]
            t0 = time.perf_counter()
            say(f"[{stage.name}] running {stage.notebook.name}")
            before = _file_state(run_dir)
            writing.path = dirs["notebooks"] / stage.notebook.name
            kernel = kernels.take(stage)
            beside = None
            # the next stages' kernels load meanwhile, once a core is free: now, or with two stages
            # side by side, when the first of them ends (their loading would slow both down)
            next_wave = waves[w + 1] if w + 1 < len(waves) else []
            core_free = _Once(lambda stages=next_wave: kernels.ahead_in_turn(critical_first(stages, previous)))
            if len(wave) > 1:                 # the second stage runs meanwhile, in its own copy
                other = wave[1]
                say(f"[{other.name}] running {other.notebook.name} (beside {stage.name})")
                beside = Beside(other, run_dir, snapshot.params, dirs["notebooks"] / other.notebook.name,
                                timeout, kernels.take(other) or Kernel.try_start(other, kernels.preload, kernels.params),
                                on_done=core_free)
            else:
                core_free()
            if render and w == len(waves) - 1 and beside is None:
                ahead = ReportsAhead(run_dir, params, skip=stage.name, before=ahead)
            try:
                execute_stage(stage, stage_parameters(snapshot.params, stage, run_dir),
                              dirs["notebooks"] / stage.notebook.name, timeout, kernel)
            except BaseException:
                if beside is not None:        # stop the stage beside it; its error is not the first
                    beside.stop()
                    beside.cleanup()
                raise
            core_free()
            seconds = round(time.perf_counter() - t0, 2)
            wrote = _changed(before, _file_state(run_dir))
            manifest["stages"][stage.name] = {"seconds": seconds, "status": "ok", "wrote": wrote}
            say(f"[{stage.name}] done in {seconds:.1f} s", console=False)
            _log_stage_warnings(dirs["notebooks"] / stage.notebook.name, stage.name, say,
                                before=kernel.loaded_warnings() if kernel else ())
            if beside is not None:
                if render and ahead is None:  # a core is free until the stage beside ends
                    done = [s.notebook.stem for ws in waves[:w] for s in ws] + [stage.notebook.stem]
                    ahead = ReportsAhead(run_dir, params, only=done)
                writing.path = dirs["notebooks"] / beside.stage.name
                try:
                    wrote = beside.finish(wrote)
                except BaseException:
                    beside.stop()             # interrupted while waiting: its kernel goes too
                    raise
                finally:
                    beside.cleanup()
                manifest["stages"][beside.stage.name] = {"seconds": beside.seconds, "status": "ok",
                                                         "wrote": wrote, "beside": stage.name}
                say(f"[{beside.stage.name}] done in {beside.seconds:.1f} s", console=False)
                _log_stage_warnings(beside.out_nb, beside.stage.name, say,
                                    before=beside.kernel.loaded_warnings() if beside.kernel else ())
        if render:
            t0 = time.perf_counter()
            writing.path = dirs["report"]
            from . import report_html
            prepared = ahead.result(stale=any(f.startswith("tables/") for f in wrote)) if ahead else None
            report_html.render_run(run_dir, params, [s.name for s in stages], prepared=prepared)
            if ahead:
                ahead.cleanup()
            manifest["render_seconds"] = round(time.perf_counter() - t0, 2)
            say(f"reports rendered in {manifest['render_seconds']:.1f} s", console=False)
        writing.path = dirs["tables"] / "datapackage.json"
        from . import datapackage
        datapackage.write(dirs["tables"], title=str(params.get("survey") or params_path.stem))
        manifest["outputs"] = _hash_tree(run_dir, ("data", "tables"))
        manifest["status"] = "success"
        manifest["warnings"] = say.warnings
        _finish(manifest)
        writing.path = run_dir / "manifest.json"
        _write_json(run_dir / "manifest.json", _public(manifest))
        writing.path = survey_dir / paths.LATEST_POINTER
        point_latest(survey_dir, run_id)
        say(f"success: {run_id} is now latest ({manifest['duration_seconds']:.1f} s, "
            f"{say.warnings} warning(s))", console=False)
    except BaseException as exc:
        if ahead is not None:
            ahead.cleanup()
        interrupted = isinstance(exc, (KeyboardInterrupt, Terminated))
        manifest["status"] = "interrupted" if interrupted else "failed"
        message = (disk_error(exc, writing.path) if isinstance(exc, OSError) and not
                   isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__)
        manifest["error"] = snapshot.translate(message)
        _finish(manifest)
        try:
            _write_json(run_dir / "manifest.json", _public(manifest), last_resort=True)
        except OSError as werr:
            say.warn(f"could not record the failure in the manifest: {disk_error(werr)}", console=False)
        say(f"{manifest['status']}: {manifest['error']}", "ERROR", console=False)
        if isinstance(exc, RunError):
            raise RunError(snapshot.translate(str(exc)), exc.exit_code) from None
        raise
    return run_dir


def _finish(manifest: dict[str, Any]) -> None:
    manifest["end"] = _now()
    manifest["duration_seconds"] = round(time.time() - manifest["_t0"], 2)


def _public(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if not k.startswith("_")}


def _file_state(run_dir: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for sub in ("data", "tables", "figures"):
        for f in (run_dir / sub).rglob("*"):
            if f.is_file():
                st = f.stat()
                out[str(f.relative_to(run_dir).as_posix())] = (st.st_size, st.st_mtime_ns)
    return out


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k, v in after.items() if before.get(k) != v)


def _log_stage_warnings(notebook: Path, stage: str, say: RunLog, limit: int = 20,
                        before: Any = ()) -> None:
    """Warnings the stage's code printed (stderr of its cells) go to run.log, not the console;
    `before`: those its imports raised while its kernel loaded them ahead (Kernel.warnings)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        cells = []
    found = [_one_line(ln) for text in before for ln in text.splitlines() if "warn" in ln.lower()]
    for cell in cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", ""))
                found.extend(_one_line(ln) for ln in text.splitlines() if "warn" in ln.lower())
    for line in found[:limit]:
        say.warn(f"[{stage}] {line[:300]}", console=False)
    if len(found) > limit:
        say.warn(f"[{stage}] {len(found) - limit} more warning line(s) in notebooks/{notebook.name}",
                 console=False)


CHECK_CHILD_FROM = 32 << 20      # bytes of exports and mailboxes from which the check runs in a child
_CHECK_CHILD = (
    "import pickle, sys\n"
    "from analysis import checks\n"
    "params = pickle.load(sys.stdin.buffer)\n"
    "problems = checks.check_inputs(params, keep=True)\n"
    "sys.stdout.buffer.write(pickle.dumps(problems, protocol=5))\n")


def _input_bytes(params: dict[str, Any]) -> int:
    from .ingest import FORMS_EXTENSIONS, MAIL_EXTENSIONS, expand_inputs

    inputs = params.get("inputs") if isinstance(params.get("inputs"), dict) else {}
    total = 0
    for key, exts in (("forms", FORMS_EXTENSIONS), ("email", MAIL_EXTENSIONS)):
        try:
            found = expand_inputs(inputs.get(key), exts, paths.ROOT)
        except Exception:
            return 0
        for p in found:
            try:
                total += (sum(f.stat().st_size for f in p.iterdir() if f.is_file()) if p.is_dir()
                          else p.stat().st_size)
            except OSError:
                pass
    return total


def _check_in_child(params: dict[str, Any]) -> list | None:
    """The input check of big inputs in a child interpreter (the same code, $ANALYSIS_SNAPSHOT
    inherited, so it leaves its reading for stage 01 as in this process): everything it read and
    recoded is returned to the system when it ends, instead of staying in this process (which
    lives through every stage) - about 1.7 GB at 10^6 responses. None below CHECK_CHILD_FROM or
    when the child fails (then the check runs here: the result never depends on the child)."""
    import pickle

    if _input_bytes(params) < CHECK_CHILD_FROM:
        return None
    try:
        done = subprocess.run([sys.executable, "-c", _CHECK_CHILD], input=pickle.dumps(params, protocol=5),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=paths.child_env(),
                              check=False)
        problems = pickle.loads(done.stdout) if done.returncode == 0 else None
    except Exception:
        return None
    return problems if isinstance(problems, list) else None


def _check_inputs_or_stop(snapshot: InputSnapshot, say: RunLog) -> None:
    try:
        from . import checks
    except ImportError:
        return  # the validation stage is not installed in this build
    problems = _check_in_child(snapshot.params)
    if problems is None:
        problems = checks.check_inputs(snapshot.params, keep=True)
    errors = [p for p in problems if getattr(p, "severity", "error") == "error"]
    for p in errors:
        say(f"  {snapshot.translate(str(p))}", "ERROR")
    if len(problems) > len(errors):
        say.warnings += len(problems) - len(errors)
        say(f"  {len(problems) - len(errors)} warning(s) in the inputs (handled as the params say; "
            f"listed by `python -m analysis check` and in the cleaning log)", "WARNING")
    if errors:
        raise RunError(f"{len(errors)} input problem(s) found; nothing was run "
                       f"(see `python -m analysis check`)", EXIT_BAD_INPUT)


def _seed_from_latest(survey_dir: Path, run_dir: Path, stages: list[Stage],
                      manifest: dict[str, Any], say: RunLog) -> str:
    """--only/--from: earlier stages' outputs come from the last successful run (copied).

    Only what those earlier stages wrote is copied when the last run's manifest says so;
    the stages being rerun write theirs afresh (nothing downstream is left stale)."""
    latest = paths.latest_run(survey_dir)
    if latest is None:
        raise RunError("--only/--from needs an earlier successful run "
                       f"({survey_dir / paths.LATEST_POINTER} or {survey_dir / 'latest'})")
    rerun = {s.name for s in stages}
    try:
        previous = json.loads((latest / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    kept = {name: info for name, info in (previous.get("stages") or {}).items() if name not in rerun}
    if kept and all(isinstance(info, dict) and "wrote" in info for info in kept.values()):
        files = sorted({f for info in kept.values() for f in info["wrote"]})
        for rel in files:
            src = latest / rel
            if src.is_file():
                (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, run_dir / rel)
    else:                                   # a run from before stage outputs were recorded
        for sub in ("data", "tables", "figures"):
            src = latest / sub
            if src.is_dir():
                shutil.copytree(src, run_dir / sub, dirs_exist_ok=True)
    for name in kept:
        nb = latest / "notebooks" / f"{name}.ipynb"
        if nb.is_file():
            shutil.copy2(nb, run_dir / "notebooks" / nb.name)
        manifest["stages"][name] = {"status": "reused", "from": latest.resolve().name,
                                    "wrote": kept[name].get("wrote", []) if isinstance(kept[name], dict) else []}
    say(f"earlier stages' outputs taken from {latest.resolve().name}: {', '.join(kept) or 'none'}",
        console=False)
    return latest.resolve().name


# --- manifest -------------------------------------------------------------------------------

def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _hash_tree(run_dir: Path, subdirs) -> dict[str, str]:
    out = {}
    for sub in subdirs:
        for f in sorted((run_dir / sub).rglob("*")):
            if f.is_file():
                out[str(f.relative_to(run_dir).as_posix())] = sha256(f)
    return out


def _git_commit() -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=paths.ROOT, capture_output=True, text=True, timeout=5)
        if res.returncode == 0:
            return res.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def _versions() -> dict[str, str]:
    from importlib import metadata

    # this project's own distribution, whatever pyproject.toml names it
    names = metadata.packages_distributions().get(__package__, [])[:1] + ["pandas", "numpy", "scipy", "statsmodels", "nltk",
             "scikit-learn", "simplemma", "chunspell", "py3langid", "pymorphy3", "papermill",
             "nbconvert", "matplotlib", "seaborn", "python-calamine", "pyarrow", "filelock"]
    out = {"python": platform.python_version()}
    for n in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[n] = metadata.version(n)
    return out


def _manifest_start(params_file, params, run_id, stages, snapshot: InputSnapshot) -> dict[str, Any]:
    return {
        "survey": params.get("survey"), "run_id": run_id, "status": "running",
        "synthetic": bool(params.get("synthetic")), "params_file": str(params_file),
        "parameters": params, "inputs_sha256": snapshot.hashes, "git_commit": _git_commit(),
        "versions": _versions(), "platform": platform.platform(),
        "stages_planned": [s.name for s in stages], "stages": {},
        "start": _now(), "_t0": time.time(),
    }


def _write_json(path: Path, data: dict, last_resort: bool = False) -> None:
    """Write atomically (a temporary file renamed over the old one). `last_resort`: on a full
    disk, overwrite in place instead (truncating frees the old file's space), so that a failed
    run still says "failed" rather than "running"."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if not (last_resort and exc.errno == errno.ENOSPC and path.exists()):
            raise
        path.write_text(text, encoding="utf-8")
