"""Execute the notebook collection: copies into ``reports/notebooks`` (papermill, with
parameters) for the monthly job, or in place for developers before committing (nbval compares
the stored outputs, so those must come from a clean top-to-bottom run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import TianxinError
from .paths import PROJECT_ROOT

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
KERNEL_NAME = "python3"
TIMEOUT_SECONDS = 600
# The kernel talks to us over loopback only; its start-up warning about unencrypted TCP is
# noise in an analyst's terminal, real errors still reach the notebook and this runner.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def _quiet_shutdown_manager() -> type:
    """nbclient's kernel manager without the interrupt that precedes every shutdown.

    jupyter_client 8's ``shutdown_kernel`` sends the kernel SIGINT before the shutdown
    request (to free a busy kernel). Ours is idle by then, but when the signal lands while
    the kernel is answering a message, ipykernel logs ``[IPKernelApp] ERROR | KeyboardInterrupt
    caught in kernel.`` on the analyst's terminal for a run that went well (about every third
    notebook). Without the interrupt the kernel still gets the shutdown request and, if it
    does not exit, is killed as before; interrupts outside a shutdown (a cell timeout) are
    unchanged.
    """
    from jupyter_client.manager import AsyncKernelManager

    class QuietShutdownKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return QuietShutdownKernelManager


def notebook_paths(notebook_dir: str | os.PathLike[str] = NOTEBOOK_DIR) -> list[Path]:
    """The collection in reading order (file names start with a two-digit number)."""
    return sorted(p for p in Path(notebook_dir).glob("*.ipynb") if not p.name.startswith("."))


def execute_in_place(path: Path) -> None:
    """Run ``path`` top to bottom with nbclient and save it with outputs, without timings."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIMEOUT_SECONDS,
        kernel_name=KERNEL_NAME,
        record_timing=False,
        extra_arguments=list(KERNEL_ARGUMENTS),
        resources={"metadata": {"path": str(path.parent)}},
        kernel_manager_class=_quiet_shutdown_manager(),
    )
    client.execute()
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


def execute_copy(path: Path, out_dir: Path, parameters: Mapping[str, Any] | None = None) -> Path:
    """Run ``path`` with papermill into ``out_dir`` (the committed notebook is not touched)."""
    import papermill

    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / path.name
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters=dict(parameters or {}),
        kernel_name=KERNEL_NAME,
        cwd=str(path.parent),
        progress_bar=False,
        request_save_on_cell_execute=False,
        extra_arguments=list(KERNEL_ARGUMENTS),
        kernel_manager_class=_quiet_shutdown_manager(),
    )
    return out


def notebook_parameters(
    *, year: int, as_of: str, raw: str | os.PathLike[str], processed: str | os.PathLike[str]
) -> dict[str, Any]:
    """Papermill parameters of the collection (the names of their ``parameters`` cells):
    plan year, as-of month and data folders (absolute: the notebooks run in notebooks/)."""
    return {"YEAR": int(year), "AS_OF": str(as_of), "RAW_DIR": str(Path(raw).resolve()),
            "PROCESSED_DIR": str(Path(processed).resolve())}  # fmt: skip


def _declared(path: Path, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The subset of ``parameters`` that ``path``'s parameters cell declares."""
    import papermill

    names = papermill.inspect_notebook(str(path))
    return {k: v for k, v in parameters.items() if k in names}


def execute_notebooks(
    out_dir: str | os.PathLike[str],
    *,
    in_place: bool = False,
    progress: bool = True,
    parameters: Mapping[str, Any] | None = None,
    notebook_dir: str | os.PathLike[str] = NOTEBOOK_DIR,
) -> Iterator[str]:
    """Execute every notebook; yield one message line per notebook."""
    from tqdm import tqdm

    paths = notebook_paths(notebook_dir)
    if not paths:
        raise TianxinError(f"未找到笔记本 (no notebooks found) in {notebook_dir}")
    for path in tqdm(paths, desc="笔记本 notebooks", disable=not progress, unit="nb"):
        try:
            if in_place:
                execute_in_place(path)
                yield f"已执行并保存 executed in place: {path.name}"
            else:
                out = execute_copy(path, Path(out_dir), _declared(path, parameters or {}))
                yield f"已执行 executed: {path.name} -> {out}"
        except Exception as exc:  # a failing cell: report which notebook, keep the message short
            first = str(exc).strip().splitlines()
            raise TianxinError(
                f"笔记本执行失败 (notebook failed): {path.name}: {first[-1] if first else type(exc).__name__}"
            ) from None
