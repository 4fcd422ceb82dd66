"""Default locations, relative to the project root (the folder holding pyproject.toml)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = PROJECT_ROOT / "data" / "raw"
PROCESSED_DIR = PROJECT_ROOT / "data" / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
TARGETS_DIR = RAW_DIR / "targets"
# Real yearbook tables live beside the repository, never inside it (see ../shared/real-data).
# TIANXIN_REAL_DATA points elsewhere (a git worktree whose parent holds no shared/ folder).
SHARED_REAL_DATA = Path(
    os.environ.get("TIANXIN_REAL_DATA") or PROJECT_ROOT.parent / "shared" / "real-data"
)
