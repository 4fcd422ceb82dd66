"""Pick a CJK font for matplotlib from a preference list that covers Windows, macOS and Linux.

``python -m tianxin_analysis.fonts --check`` exits 0 and prints the chosen font when one is
installed, 1 otherwise (the Makefile then installs Debian's fonts-wqy-microhei).
"""

from __future__ import annotations

import argparse
import sys
from functools import lru_cache

# Windows, macOS, then Linux families; the first one installed wins.
PREFERRED_CJK_FONTS = (
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans SC",
)


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """Return the family name of the first preferred CJK font matplotlib can see, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in PREFERRED_CJK_FONTS:
        if name in installed:
            return name
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m tianxin_analysis.fonts [--check]``: print the CJK font found; exit 1 with
    --check when none."""
    parser = argparse.ArgumentParser(description="Find a CJK font for charts.")
    parser.add_argument("--check", action="store_true", help="exit 1 when no CJK font is found")
    args = parser.parse_args(argv)
    font = find_cjk_font()
    if font is None:
        print(
            "未找到中文字体 (no CJK font found); 请安装其一 (install one of): "
            + ", ".join(PREFERRED_CJK_FONTS),
            file=sys.stderr,
        )
        return 1 if args.check else 0
    print(font)
    return 0


if __name__ == "__main__":
    sys.exit(main())
