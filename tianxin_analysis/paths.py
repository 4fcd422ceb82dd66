"""Default locations, relative to the project root (the folder holding pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = PROJECT_ROOT / "data" / "raw"
PROCESSED_DIR = PROJECT_ROOT / "data" / "processed"
REPORTS_DIR = PROJECT_ROOT / "reports"
TARGETS_DIR = RAW_DIR / "targets"
# Real yearbook tables live beside the repository, never inside it (see ../shared/real-data).
SHARED_REAL_DATA = PROJECT_ROOT.parent / "shared" / "real-data"
