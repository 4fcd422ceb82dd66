"""``tianxin regions``: every region's forecast (``scale``) published as a dataset partitioned by
as-of month, with a status summary and an HTML overview of the regions sorted by risk.

Layout of the output folder (published all or nothing, ``publish``)::

    <out>/forecasts/as_of=<YYYY-MM>/part-0.parquet   scale.OUTPUT_COLUMNS, one row per target
    <out>/overview_<YYYY-MM>.html                    the regions by risk (Chinese first)
    <out>/run.json                                   manifest (run id, inputs, files)

Each run replaces its own as-of month and keeps the other months' files.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .labels import REGION_TARGET, REGION_TEXT, STATUS, SYNTHETIC_LABEL

FORECASTS_DIR = "forecasts"
# Statuses from the most to the least worrying (the order of the summary's columns).
_STATUS_ORDER = ("off_track", "at_risk", "on_track", "met", "unknown", "insufficient_data")


def _zh(key: str) -> str:
    return REGION_TEXT[key][0]


def _target_name(target_id: str) -> str:
    return REGION_TARGET.get(target_id, (target_id, target_id))[0]


def status_counts(result: pd.DataFrame) -> pd.DataFrame:
    """Regions by status of each target: one row per target (Chinese name, in the result's
    order), one column per status present (Chinese label), counts of regions."""
    order = list(dict.fromkeys(result["target_id"]))
    table = pd.crosstab(result["target_id"], result["status"]).reindex(order)
    table = table[[s for s in _STATUS_ORDER if s in table.columns]]
    table.index = [_target_name(t) for t in table.index]
    table.columns = [STATUS[s][0] for s in table.columns]
    table.index.name = _zh("target")
    return table


def risk_table(result: pd.DataFrame) -> pd.DataFrame:
    """One row per region, the most at risk first: ``region``, ``off_track``, ``at_risk``
    (numbers of targets), ``mean_p_meet`` (over targets with a probability, NaN if none) and
    one column per target id with ``status`` and ``p_meet``'s text. Ties keep region order."""
    st = result.pivot(index="region", columns="target_id", values="status")
    p = result.pivot(index="region", columns="target_id", values="p_meet")
    order = list(dict.fromkeys(result["target_id"]))
    out = pd.DataFrame({
        "region": st.index.astype(str),
        "off_track": (st == "off_track").sum(axis=1).to_numpy(),
        "at_risk": (st == "at_risk").sum(axis=1).to_numpy(),
        "mean_p_meet": p.mean(axis=1, skipna=True).to_numpy(),
    })  # fmt: skip
    for t in order:
        text = [
            f"{STATUS[s][0]} {pm:.0%}" if np.isfinite(pm) else STATUS[s][0]
            for s, pm in zip(st[t].to_numpy(), p[t].to_numpy(dtype=float), strict=True)
        ]
        out[t] = text
    key = out["mean_p_meet"].fillna(np.inf)
    return (out.assign(_key=key)
               .sort_values(["off_track", "at_risk", "_key", "region"],
                            ascending=[False, False, True, True], kind="stable")
               .drop(columns="_key").reset_index(drop=True))  # fmt: skip


def summary_text(result: pd.DataFrame, limit: int = 20) -> str:
    """The status summary the command prints: regions by status of each target, then the
    ``limit`` regions most at risk with their statuses."""
    counts = status_counts(result)
    risk = risk_table(result)
    lines = [f"{_zh('summary')} ({REGION_TEXT['summary'][1]}), {len(risk):,} 个区域 regions:",
             counts.to_string()]  # fmt: skip
    shown = risk.head(limit)
    head = f"风险最高的 {len(shown)} 个区域 (regions most at risk):"
    table = shown.drop(columns="mean_p_meet").rename(columns={
        "region": _zh("region"), "off_track": _zh("off_track"), "at_risk": _zh("at_risk"),
        **{t: _target_name(t) for t in dict.fromkeys(result["target_id"])},
    })  # fmt: skip
    lines += [head, table.to_string(index=False)]
    return "\n".join(lines)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def overview_html(result: pd.DataFrame, *, as_of: str, synthetic: bool) -> str:
    """The regions sorted by risk as one HTML page (a table; Chinese first), with the
    synthetic-data label when the data are synthetic."""
    risk = risk_table(result)
    targets = list(dict.fromkeys(result["target_id"]))
    title = REGION_TEXT["title"][0].format(as_of=as_of)
    heads = [_zh("rank"), _zh("region"), _zh("off_track"), _zh("at_risk"),
             *(_target_name(t) for t in targets)]  # fmt: skip
    codes = result.pivot(index="region", columns="target_id", values="status")
    rows = []
    for rank, row in enumerate(risk.itertuples(index=False), 1):
        cells = [f"<td>{rank}</td>", f"<td>{_esc(row.region)}</td>",
                 f"<td>{row.off_track}</td>", f"<td>{row.at_risk}</td>"]  # fmt: skip
        for t in targets:
            cls = codes.at[row.region, t]
            cells.append(f'<td class="{_esc(cls)}">{_esc(getattr(row, t))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    banner = f'<p class="synthetic">{_esc(SYNTHETIC_LABEL)}</p>' if synthetic else ""
    summary = status_counts(result).to_html(classes="summary", border=0)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_esc(title)}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; font-size: 14px; margin-bottom: 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: left; }}
.off_track {{ background: #f8d0cc; }} .at_risk {{ background: #fde9c4; }}
.on_track, .met {{ background: #d9efd8; }} .synthetic {{ color: #b00; font-weight: bold; }}
</style></head><body>
<h1>{_esc(title)}</h1>
<p>{_esc(REGION_TEXT["title"][1].format(as_of=as_of))}</p>
{banner}
<h2>{_esc(_zh("summary"))}</h2>
{summary}
<p>{_esc(_zh("note"))}</p>
<table class="regions"><thead><tr>{"".join(f"<th>{_esc(h)}</th>" for h in heads)}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""


def write_regions(result: pd.DataFrame, out_dir: str | os.PathLike[str], *, as_of: str,
                  synthetic: bool) -> list[Path]:  # fmt: skip
    """Write the as-of month's partition and overview page into ``out_dir`` (a staging
    folder of ``publish``); returns the files written."""
    out = Path(out_dir)
    part = out / FORECASTS_DIR / f"as_of={as_of}" / "part-0.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    result.to_parquet(part, index=False)
    page = out / f"overview_{as_of}.html"
    page.write_text(overview_html(result, as_of=as_of, synthetic=synthetic), encoding="utf-8")
    return [part, page]
