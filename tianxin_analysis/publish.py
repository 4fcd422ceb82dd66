"""Publish a folder of outputs all or nothing: lock, stage, manifest, swap.

Every command that writes (``clean`` into ``data/processed``; ``forecast``, ``report``,
``notebooks`` and ``all`` into ``reports``) does it through :func:`publish`::

    with publish(reports_dir, "report", params={"as_of": "2024-09", "year": 2024},
                 inputs={"targets": targets_yaml}) as stage:
        evaluation.write(stage.path)           # write into the staging folder
        build_briefing(evaluation, stage.path, run_id=stage.run_id)

1. A lock beside the destination (``.<name>.lock``, an OS file lock through ``filelock``, so
   the kernel releases it when its holder dies, even by ``kill -9``) refuses a second writer
   with a message naming the folder and the holder (pid, command, start time).
2. The run writes into an empty staging folder ``.<name>.staging-<pid>`` beside the
   destination. When it is done, every published file it did not write and did not
   :meth:`~Stage.discard` (another command's outputs, a failed kind's last good table) is
   carried over into the stage as a hard link (cheap; the run never had it open, so it is
   byte for byte the published file).
3. Then ``run.json`` is written into the stage: run id, command,
   parameters, input hashes and every file of the set with its SHA-256 and the run that
   wrote it. Then the stage and the destination are exchanged in one ``renameat2`` call
   (Linux; elsewhere two renames, which the next run completes if interrupted in between).
   Readers see the whole previous set or the whole new one; a reader that reads several
   files holds :func:`reading` (a shared OS lock beside the folder), and the swap waits
   until no reader holds it, so one read never mixes two sets.
4. On any error, or when killed, the destination is untouched; the stage is removed (a
   killed run's stage is removed by the next run on that folder). Disk full, read-only
   folders and denied permissions become :class:`~tianxin_analysis.errors.OutputError`.

The run id is derived from the command, parameters, package version and input hashes, so the
same inputs give the same id and (the outputs being deterministic) the same bytes.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import glob
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from ._fs import atomic_write_text, sha256_file
from .errors import OutputError

MANIFEST_NAME = "run.json"
# errno values that mean "this folder cannot take the outputs" (not a bug, not bad input)
_OUTPUT_ERRNOS = {
    errno.ENOSPC: ("磁盘空间不足", "no space left on the device"),
    errno.EDQUOT: ("超出磁盘配额", "disk quota exceeded"),
    errno.EROFS: ("文件系统只读", "read-only file system"),
    errno.EACCES: ("没有写入权限", "permission denied"),
    errno.EPERM: ("没有写入权限", "operation not permitted"),
}


def _lock_path(dest: Path) -> Path:
    """The lock file beside an output folder (``.<name>.lock``)."""
    return dest.parent / f".{dest.name}.lock"


def _read_lock_path(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.read.lock"


def _stage_prefix(dest: Path) -> str:
    """Name prefix of the staging folders of an output folder (``.<name>.staging-``)."""
    return f".{dest.name}.staging-"


def _previous_path(dest: Path) -> Path:
    """Where the previous version of an output folder waits during the swap
    (``.<name>.previous``)."""
    return dest.parent / f".{dest.name}.previous"


@dataclass
class Stage:
    """The staging folder of one run. Write outputs into ``path``; read ``run_id``.

    ``inputs``: name -> SHA-256 of what the outputs were made from; add to it before
    ``run_id`` is first read (the id is computed once, from the inputs known then).
    ``extra``: further top-level fields for ``run.json`` (``clean`` records its failures).
    """

    dest: Path
    path: Path
    command: str
    params: dict[str, Any]
    inputs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] | None = None
    _run_id: str | None = None

    @property
    def run_id(self) -> str:
        """12 hex characters identifying the run: a hash of the command, parameters, input
        hashes and package version (the same inputs give the same id)."""
        if self._run_id is None:
            basis = {"command": self.command, "params": self.params, "inputs": self.inputs,
                     "package_version": __version__}  # fmt: skip
            digest = hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()
            self._run_id = digest[:12]
        return self._run_id

    def add_input(self, name: str, path: str | os.PathLike[str]) -> None:
        """Record ``path``'s SHA-256 as input ``name`` (nothing when it does not exist)."""
        if Path(path).is_file():
            self.inputs[name] = sha256_file(path)
            self._input_paths[name] = Path(path)

    def changed_inputs(self) -> list[str]:
        """Inputs recorded by :meth:`add_input` whose bytes are no longer those hashed (a
        concurrent ``clean`` replaced the processed set while this run read it)."""
        changed = []
        for name, path in self._input_paths.items():
            try:
                same = sha256_file(path) == self.inputs[name]
            except OSError:
                same = False
            if not same:
                changed.append(name)
        return changed

    discarded: list[str] = field(default_factory=list)
    _input_paths: dict[str, Path] = field(default_factory=dict)
    # rel path -> ((inode, size, mtime_ns), SHA-256) of files hashed by :meth:`hashed`
    _digests: dict[str, tuple[tuple[int, int, int], str]] = field(default_factory=dict)

    def hashed(self, path: str | os.PathLike[str]) -> Path:
        """Hash the finished output ``path`` (in the stage) now, for ``run.json``; returns
        ``path``. A writer calls it on its own thread right after writing, so that the
        manifest does not hash every output once more at the end; a file changed after
        this call (another inode, size or modification time) is hashed again there."""
        path = Path(path)
        digest, st = sha256_file(path), path.stat()
        rel = path.relative_to(self.path).as_posix()
        self._digests[rel] = ((st.st_ino, st.st_size, st.st_mtime_ns), digest)
        return path

    def _known_digest(self, rel: str) -> str | None:
        """The digest :meth:`hashed` recorded for ``rel`` if the file is unchanged since."""
        known = self._digests.get(rel)
        if known is None:
            return None
        st = (self.path / rel).stat()
        return known[1] if (st.st_ino, st.st_size, st.st_mtime_ns) == known[0] else None

    def discard(self, *relative: str) -> None:
        """Do not carry the published ``relative`` files or folders over: outputs this run
        rewrites as a whole set (figures, executed notebooks, a kind's partitions), so none
        of the previous ones survive beside the new ones."""
        self.discarded += [Path(r).as_posix() for r in relative]

    def _carried(self, rel: str) -> bool:
        """True when a previous output ``rel`` is carried into the new folder (not under a
        discarded path)."""
        return not any(rel == d or rel.startswith(d + "/") for d in self.discarded)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """``folder/run.json`` as a dict, or None when there is none (or it is unreadable)."""
    path = Path(folder) / MANIFEST_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verify_manifest(folder: str | os.PathLike[str]) -> list[str]:
    """Differences between ``folder`` and its ``run.json``: files listed but missing or with
    other bytes, files present but not listed. Empty when they agree."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder / MANIFEST_NAME}: missing or unreadable"]
    listed = manifest.get("outputs", {})
    present = {rel for rel in _files(folder) if rel != MANIFEST_NAME}
    problems = [f"not listed: {rel}" for rel in sorted(present - set(listed))]
    for rel, entry in sorted(listed.items()):
        if rel not in present:
            problems.append(f"missing: {rel}")
        elif sha256_file(folder / rel) != entry["sha256"]:
            problems.append(f"changed: {rel}")
    return problems


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` (relative posix paths), without our temporary files."""
    out = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not _is_scratch(d)]
        base = Path(root).relative_to(folder)
        out += [(base / n).as_posix() for n in names if not _is_scratch(n)]
    return sorted(out)


def _is_scratch(name: str) -> bool:
    """Temporary names of ours (``atomic_path``'s ``.name.XXXX.tmp``, stages, locks)."""
    return name.startswith(".") and (
        name.endswith((".tmp", ".lock")) or ".staging-" in name or name.endswith(".previous")
    )


# ---- the lock ------------------------------------------------------------------------------


def _holder_text(path: Path) -> str:
    """Who holds the lock at ``path``, from what it wrote there (pid, command, start)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "进程未知 holder unknown"
    return (f"进程 pid {info.get('pid')}，命令 command {info.get('command')}，"
            f"开始于 started {info.get('started_utc')} UTC")  # fmt: skip


def _pid_alive(pid: int) -> bool:
    """True when a process with this id exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(dest: Path, command: str) -> Iterator[str | None]:
    """Hold the writer's lock of ``dest``; yield a note when a dead holder's lock was taken
    over (None otherwise). Refuse with :class:`OutputError` when a live process holds it."""
    from filelock import FileLock, Timeout

    path = _lock_path(dest)
    stale = None
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = None
    info = {"pid": os.getpid(), "command": command,
            "started_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")}  # fmt: skip

    def write_holder(fd: int) -> None:
        data = json.dumps(info).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    lock = FileLock(path, timeout=0, on_acquired=write_holder, preserve_lock_file=True)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            f"输出目录正被另一个 tianxin 进程写入（{_holder_text(path)}），请等它结束后再运行",
            "the output folder is being written by another tianxin run; wait for it to "
            "finish, then run again",
            file=str(dest),
        ) from None
    except OSError as exc:
        raise _output_error(exc, dest) from None
    if previous and previous.get("pid") and not _pid_alive(int(previous["pid"])):
        stale = (f"上次运行（进程 pid {previous['pid']}，{previous.get('command')}，开始于 "
                 f"{previous.get('started_utc')} UTC）未正常结束，已清理其残留 "
                 f"(a previous run that did not finish was cleaned up)")  # fmt: skip
    try:
        yield stale
    finally:
        with contextlib.suppress(OSError):
            path.write_text("", encoding="utf-8")  # no holder any more
        lock.release()


# ---- readers and the swap --------------------------------------------------------------------

# How long a publish waits for readers of the old set before its swap, and a reader for a
# swap under way (a swap takes milliseconds; readers hold the set while they read it).
READERS_WAIT_SECONDS = 600.0
SWAP_WAIT_SECONDS = 60.0


@contextlib.contextmanager
def _flock(dest: Path, exclusive: bool, timeout: float) -> Iterator[bool]:
    """An OS lock (``fcntl.flock``) on ``dest``'s read lock file, shared or exclusive; yields
    False without locking where that is not possible (no fcntl, a folder that cannot hold
    the lock file): readers then still have ``Stage.changed_inputs``."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield False
        return
    path = _read_lock_path(dest)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield False
        return
    try:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(str(path)) from None
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def reading(folder: str | os.PathLike[str], timeout: float = SWAP_WAIT_SECONDS) -> Iterator[None]:
    """Read a published folder as one set: while this is held, :func:`publish` of the same
    folder waits before swapping in a new set, so every file read belongs to the same run
    (``tianxin forecast``/``report``/``all`` hold it over ``data/processed`` while they read it).
    Many readers may hold it at once. Raises :class:`OutputError` when a swap does not end
    within ``timeout`` seconds."""
    dest = Path(os.path.abspath(folder))
    try:
        with _flock(dest, exclusive=False, timeout=timeout):
            yield
    except TimeoutError:
        raise OutputError(
            "等待另一次运行替换数据目录超时，请稍后重新运行",
            "timed out waiting for another run to swap in the folder; run again later",
            file=str(dest),
        ) from None


def _swap_when_unread(stage: Path, dest: Path) -> None:
    """``_swap`` once no reader holds ``dest`` (see :func:`reading`)."""
    try:
        with _flock(dest, exclusive=True, timeout=READERS_WAIT_SECONDS):
            _swap(stage, dest)
    except TimeoutError:
        raise OutputError(
            f"数据目录正被读取，等待 {READERS_WAIT_SECONDS:.0f} 秒后仍未结束，本次结果未发布；请稍后重新运行",
            "the folder is still being read by another run; nothing was published, run again "
            "later",
            file=str(dest),
        ) from None


# ---- staging and the swap ------------------------------------------------------------------


def _recover(dest: Path) -> None:
    """Under the lock: finish or undo what a killed run left (its stage; a swap by two
    renames interrupted between them)."""
    previous = _previous_path(dest)
    if previous.exists():
        if not dest.exists():
            os.replace(previous, dest)  # the new set never arrived: the old one is the set
        else:
            shutil.rmtree(previous, ignore_errors=True)
    prefix = _stage_prefix(dest)
    for p in dest.parent.glob(f"{glob.escape(prefix)}*"):
        shutil.rmtree(p, ignore_errors=True)


def _carry_over(stage: Stage) -> None:
    """Hard-link into the stage every published file the run neither wrote nor discarded
    (a plain copy where the file system refuses links)."""
    if not stage.dest.is_dir():
        return
    for rel in _files(stage.dest):
        target = stage.path / rel
        if rel == MANIFEST_NAME or not stage._carried(rel) or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(stage.dest / rel, target)
        except OSError:
            shutil.copy2(stage.dest / rel, target)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically (Linux renameat2); False where that is not offered."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # the file system does not support the exchange
    raise OSError(err, os.strerror(err), str(b))


def _swap(stage: Path, dest: Path) -> None:
    """Put ``stage`` in place of ``dest``; the old set is removed."""
    if not dest.exists():
        os.rename(stage, dest)
        return
    if _exchange(stage, dest):
        shutil.rmtree(stage, ignore_errors=True)  # (now holds the old set)
        return
    previous = _previous_path(dest)
    os.rename(dest, previous)
    os.rename(stage, dest)  # killed between the two: _recover puts `previous` back
    shutil.rmtree(previous, ignore_errors=True)


def _check_destination(dest: Path) -> None:
    """Refuse an output folder that holds the working directory, is a file or is a mount point."""
    cwd = Path.cwd().resolve()
    if cwd == dest or dest in cwd.parents:
        raise OutputError(
            "输出目录不能是当前目录或其上级目录（整个目录会被替换）",
            "the output folder cannot be the current folder or one above it (the whole "
            "folder is replaced)",
            file=str(dest), expected="a folder of its own, e.g. data/processed or reports",
        )  # fmt: skip
    if dest.exists() and not dest.is_dir():
        raise OutputError("输出路径不是目录", "the output path is not a folder", file=str(dest))
    if dest.is_dir() and os.path.ismount(dest):
        raise OutputError(
            "输出目录是挂载点，无法整体替换；请使用其下的子目录",
            "the output folder is a mount point and cannot be swapped; use a folder inside it",
            file=str(dest),
        )  # fmt: skip


def _output_error(exc: OSError, dest: Path) -> OutputError:
    """An ``OutputError`` naming the folder and the cause (no space, no permission, ...) of
    ``exc``."""
    code = exc.errno if exc.errno in _OUTPUT_ERRNOS else _errno_in_text(str(exc))
    zh, en = _OUTPUT_ERRNOS.get(code, ("无法写入", "cannot write"))
    return OutputError(
        f"无法写入输出目录（{zh}），已发布的输出保持不变；请腾出空间或检查权限后重新运行",
        f"cannot write the output folder ({en}); the published outputs are unchanged. Free "
        "space or fix the permissions and run again",
        file=str(dest), found=str(exc)[:200],
    )  # fmt: skip


def _errno_in_text(text: str) -> int | None:
    """pyarrow's OSErrors carry the errno only in their text (``[Errno 28] ...``)."""
    for code in _OUTPUT_ERRNOS:
        if f"[Errno {code}]" in text or os.strerror(code) in text:
            return code
    return None


def _is_output_error(exc: OSError, stage: Path) -> bool:
    """True for a write into ``stage`` that the file system refused (full, read-only,
    denied); an error naming a file elsewhere (an input) is not one."""
    if exc.filename and not Path(os.path.abspath(exc.filename)).is_relative_to(stage):
        return False
    return exc.errno in _OUTPUT_ERRNOS or _errno_in_text(str(exc)) is not None


def _output_cause(exc: BaseException, stage: Path) -> OSError | None:
    """The refused write behind ``exc``, if any: an output error in its chain, or a full
    disk under the stage (a writer may fail with another exception once the disk is full:
    matplotlib's PDF backend does, and a worker process's traceback loses the chain)."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and _is_output_error(seen, stage):
            return seen
        seen = seen.__cause__ or seen.__context__
    try:
        free = os.statvfs(stage).f_bavail * os.statvfs(stage).f_frsize
    except (OSError, AttributeError):
        return None
    if free < _NEARLY_FULL_BYTES:
        return OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({type(exc).__name__}: {exc})")
    return None


_NEARLY_FULL_BYTES = 1 << 20


# ---- the manifest --------------------------------------------------------------------------


def _manifest(stage: Stage) -> dict[str, Any]:
    """``run.json`` for the stage: every file with its hash and the run that wrote it."""
    previous = stage.previous or {}
    before = previous.get("outputs", {})
    reused: dict[str, dict] = {}
    fresh: list[str] = []
    for rel in _files(stage.path):
        if rel == MANIFEST_NAME:
            continue
        entry = before.get(rel)
        if entry is not None and _same_file(stage.path / rel, stage.dest / rel):
            reused[rel] = entry  # carried over as a hard link: the bytes are the published ones
        else:
            fresh.append(rel)
    digests = _digests(stage, fresh)
    outputs = {}
    for rel in sorted([*reused, *fresh]):
        if rel in reused:
            outputs[rel] = reused[rel]
        else:
            size = (stage.path / rel).stat().st_size
            outputs[rel] = {"sha256": digests[rel], "size_bytes": size, "run_id": stage.run_id}
    runs = {}
    older = {previous.get("run_id"): _run_record(previous), **previous.get("runs", {})}
    for entry in reused.values():
        rid = entry.get("run_id")
        if rid != stage.run_id and rid in older and older[rid] is not None:
            runs[rid] = older[rid]
    return {
        "run_id": stage.run_id,
        "command": stage.command,
        **stage.params,
        "package_version": __version__,
        "inputs": dict(sorted(stage.inputs.items())),
        **stage.extra,
        "outputs": outputs,
        "runs": runs,  # the runs that wrote files carried over unchanged
    }


def _digests(stage: Stage, fresh: list[str]) -> dict[str, str]:
    """SHA-256 of each of the stage's files ``fresh``: as :meth:`Stage.hashed` recorded it
    for a file unchanged since, else hashed now."""
    digests = {rel: d for rel in fresh if (d := stage._known_digest(rel)) is not None}
    todo = [rel for rel in fresh if rel not in digests]
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib releases the GIL
        digests.update(
            zip(todo, pool.map(lambda r: sha256_file(stage.path / r), todo), strict=True)
        )
    return digests


def _run_record(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of a manifest that identifies its run (command, as-of, year, version, inputs); None
    for a manifest without a run id."""
    if not manifest.get("run_id"):
        return None
    keep = ("command", "as_of", "year", "package_version", "inputs")
    return {k: manifest[k] for k in keep if k in manifest}


def _same_file(a: Path, b: Path) -> bool:
    """True when two paths are one unchanged file (inode, device, size and modification time)."""
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_ino, sa.st_dev, sa.st_size, sa.st_mtime_ns) == (
        sb.st_ino, sb.st_dev, sb.st_size, sb.st_mtime_ns)  # fmt: skip


# ---- the whole thing -----------------------------------------------------------------------


@contextlib.contextmanager
def publish(
    dest: str | os.PathLike[str],
    command: str,
    *,
    params: Mapping[str, Any] | None = None,
    inputs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> Iterator[Stage]:
    """Lock ``dest``, yield a :class:`Stage` to write into, then publish it whole (see the
    module doc). ``inputs``: name -> file whose hash goes into the manifest and the run id."""
    dest = Path(os.path.abspath(dest))
    if dest.is_symlink():
        dest = dest.resolve()
    _check_destination(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(exc, dest) from None
    with _locked(dest, command) as stale:
        if stale:
            print(stale, file=sys.stderr)
        stage_path = dest.parent / f"{_stage_prefix(dest)}{os.getpid()}"
        try:
            _recover(dest)
            stage_path.mkdir()
        except OSError as exc:
            shutil.rmtree(stage_path, ignore_errors=True)
            raise _output_error(exc, dest) from None
        stage = Stage(dest, stage_path, command, dict(params or {}), previous=read_manifest(dest))
        try:
            for name, path in (inputs or {}).items():
                stage.add_input(name, path)
            yield stage
            _carry_over(stage)
            atomic_write_text(stage_path / MANIFEST_NAME,
                              json.dumps(_manifest(stage), ensure_ascii=False, indent=2) + "\n")  # fmt: skip
            _swap_when_unread(stage_path, dest)
        except Exception as exc:
            cause = _output_cause(exc, stage_path)
            shutil.rmtree(stage_path, ignore_errors=True)
            if cause is not None:
                raise _output_error(cause, dest) from None
            raise
        except BaseException:
            shutil.rmtree(stage_path, ignore_errors=True)
            raise
