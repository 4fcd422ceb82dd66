"""One model per kind of target, each on a processed table (columns as docs/data-contract.md).

Every function takes the table, the plan year and the as-of month (a monthly ``pd.Period``)
and uses only rows dated on or before the end of that month. Each returns a
``ForecastResult``; the watch-list and path helpers return frames.

- ``hitech_year_end``: valid 高新技术企业 certificates at year end (stock with expiry).
- ``sme_year_end``: 科技型中小企业 registered in the year (annual registrations).
- ``contracts_year_end``: technology contracts count or value (monthly flows).
- ``growth_full_year``: full-year growth of high-tech value added from cumulative growth.
- ``rd_intensity``: R&D expenditure / GDP of a reference year published with a lag.
- ``pipeline_count``: already recognised + Poisson-binomial successes of pending candidates.

Every result says what data it used (``details``): ``data_through`` (``YYYY-MM``, the last
period of data the answer rests on; for pipelines the ledger's date), ``history_years``
(complete past years the model used) and ``notes`` (plain-Chinese sentences for the 数据提示
column: a fallback used, data ending before the as-of month, a year not yet published).
When the data cannot support an honest answer a model raises ``InsufficientDataError``
(status 数据不足) with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputFileError
from ..io import read_yaml_document
from . import _dist
from .annual import annual
from .panel import annual_with_peers, resolve_peers
from .result import ForecastResult, InsufficientDataError
from .ytd import monthly_matrix, year_end_from_ytd

REMOVED_STATUSES = ("已撤销", "已迁出")
# Default probability that a pending candidate is recognised within the plan year, by stage.
# Rough priors from how such lists usually convert (储备 = only identified, 申报中 = application
# filed, 评审中 = under expert review); override with ``stage_probabilities``.
DEFAULT_STAGE_PROBABILITIES = {"储备": 0.25, "申报中": 0.5, "评审中": 0.8}
N_SIM = 4000
# Default spread (percentage points) of rest-of-year minus year-to-date growth, and of one
# year's full-year growth around the last ones when no month of the year is reported yet.
GROWTH_PRIOR_SD_PP = 2.0
# A plan year without any data of a kind is still forecast from past years (with a note) while
# its first report is not due: before the year starts and through February, because the first
# monthly figures of a year usually come as one 1-2月 report. Later, no data is 数据不足.
NO_DATA_GRACE_MONTHS = 2
# Months after the end of a year by which its R&D statistics are published (used unless the
# targets file gives ``publication_lag_months``). The national R&D bulletin of year Y appeared
# on 2022-08-31 (Y=2021), 2023-09-18 (2022) and 2024-10-02 (2023); provincial and district
# figures follow the same autumn round. Nine months (end of September) is the usual date.
DEFAULT_RD_PUBLICATION_LAG_MONTHS = 9


def month_end(as_of: pd.Period) -> pd.Timestamp:
    """Last instant of month ``as_of`` (dates are compared with <=)."""
    return (as_of + 1).to_timestamp() - pd.Timedelta(nanoseconds=1)


def _ym(p: pd.Period | None) -> str:
    return "" if p is None else f"{p.year:04d}-{p.month:02d}"


def _zh(p: pd.Period) -> str:
    return f"{p.year}年{p.month}月"


def _in_grace(year: int, as_of: pd.Period) -> bool:
    """True while a plan year's first report of a kind is not yet due (see NO_DATA_GRACE_MONTHS)."""
    return as_of.year < year or (as_of.year == year and as_of.month <= NO_DATA_GRACE_MONTHS)


def _stale_note(through: pd.Period | None, as_of: pd.Period, year: int) -> str:
    """A note when the data ends before the as-of month (or before the plan year's end, once
    the as-of month is past it)."""
    needed = min(as_of, pd.Period(year=year, month=12, freq="M"))
    if through is None or through >= needed:
        return ""
    what = "截至月份" if needed == as_of else "计划年末"
    return f"数据截至{_zh(through)}，早于{what}{_zh(needed)}，其后月份按模型推算"


def _event_coverage(frame: pd.DataFrame, date_col: str, as_of: pd.Period) -> pd.Period | None:
    """Month a dated list covers: its latest date, or the latest report date in its files'
    names, whichever is later; capped at ``as_of``. None for an empty list."""
    from ..data.coverage import latest_report_date  # the data package loads pyarrow: lazily

    dates = pd.to_datetime(frame[date_col]).dropna()
    latest = [dates.max()] if len(dates) else []
    rep = latest_report_date(frame["source_file"]) if "source_file" in frame.columns else None
    if rep is not None:
        latest.append(rep)
    if not latest:
        return None
    return min(pd.Period(max(latest), freq="M"), as_of)


def _with_coverage(r: ForecastResult, through: pd.Period | str | None, history_years: int,
                   *notes: str) -> ForecastResult:  # fmt: skip
    """``r`` with ``data_through``, ``history_years`` and ``notes`` in its details."""
    from dataclasses import replace

    text = through if isinstance(through, str) else _ym(through)
    kept = [n for n in (*r.details.get("notes", ()), *notes) if n]
    return replace(r, details={**r.details, "data_through": text,
                               "history_years": int(history_years), "notes": kept})  # fmt: skip


# --------------------------------------------------------------------------- 高新技术企业


def _cert_view(certs: pd.DataFrame, as_of: pd.Period) -> pd.DataFrame:
    """Certificates known at the end of ``as_of`` (issue date on or before it; undated
    certificates of earlier batch years kept)."""
    cutoff = month_end(as_of)
    issued = pd.to_datetime(certs["issue_date"])
    known = issued.le(cutoff) | (issued.isna() & certs["year"].lt(as_of.year))
    out = certs[known]
    return out.assign(removed=out["status"].astype(str).isin(REMOVED_STATUSES))


def hitech_watch_list(certs: pd.DataFrame, year: int, as_of: pd.Period | str) -> pd.DataFrame:
    """Enterprises whose certificate expires in ``year`` (batch ``year`` - 3) and that have not
    renewed (no certificate of batch ``year`` issued by the end of ``as_of``), not revoked or
    moved out. Columns: enterprise_name, uscc, certificate_no, issue_date, expiry_year, park,
    tech_field; sorted by park and name."""
    as_of = pd.Period(as_of, freq="M")
    c = _cert_view(certs, as_of)
    renewed = set(c.loc[c["year"].eq(year), "uscc"])
    still_valid = set(c.loc[c["year"].isin([year - 2, year - 1]) & ~c["removed"], "uscc"])
    exp = c[c["year"].eq(year - 3) & ~c["removed"]]
    exp = exp[~exp["uscc"].isin(renewed | still_valid)]
    cols = [
        "enterprise_name",
        "uscc",
        "certificate_no",
        "issue_date",
        "expiry_year",
        "park",
        "tech_field",
    ]
    return (
        exp[cols]
        .drop_duplicates("uscc")
        .sort_values(["park", "enterprise_name"])
        .reset_index(drop=True)
    )


def _renewal_beta(c: pd.DataFrame, year: int) -> tuple[float, float, int]:
    """Beta parameters of the renewal probability from past cohorts (beta-binomial): cohorts
    expiring in years before ``year``; between-cohort spread beyond binomial noise lowers the
    effective sample size. Returns (a, b, number of cohorts)."""
    by_year = {y: set(g["uscc"]) for y, g in c.groupby("year")}
    removed = set(c.loc[c["removed"], "uscc"])
    rates, sizes = [], []
    for e in sorted(by_year):
        if e >= year or (e - 3) not in by_year:
            continue
        cohort = by_year[e - 3] - removed
        if cohort:
            sizes.append(len(cohort))
            rates.append(len(cohort & by_year[e]) / len(cohort))
    if not sizes:
        return 1.0, 1.0, 0  # uniform: nothing known
    n = np.asarray(sizes, float)
    r = np.asarray(rates)
    p = float(np.sum(r * n) / n.sum())
    ess = n.sum()
    if len(n) >= 2 and 0 < p < 1:
        between = float(np.average((r - p) ** 2, weights=n))
        binom = p * (1 - p) / n.mean()
        if between > binom:
            ess = min(ess, max(p * (1 - p) / (between - binom / 2) - 1, 2.0))
    return 1 + p * ess, 1 + (1 - p) * ess, len(n)


def _issued_share_by_month(c: pd.DataFrame, year: int, month: int) -> float:
    """Share of a batch year's certificates issued by ``month`` of that year, past batches."""
    past = c[c["year"].lt(year) & c["issue_date"].notna()]
    if past.empty:
        return 0.0
    issued = pd.to_datetime(past["issue_date"])
    same_year = issued.dt.year.eq(past["year"])
    return float((same_year & issued.dt.month.le(month)).mean())


def hitech_year_end(
    certs: pd.DataFrame, year: int, as_of: pd.Period | str, target: float | None = None, *,
    comparator: str = ">=", tolerance: float = 0.0, seed: int | None = None,
    peers: pd.DataFrame | str | None = None,
) -> ForecastResult:  # fmt: skip
    """Valid high-tech enterprises at the end of ``year``.

    ``peers`` (None by default): peer series for the yearly new certifications, shrunk toward
    by ``annual_panel`` (``"default"``: the public and user peer series). Off by default: the
    public series counts high-tech *industry* enterprises, not certificates, and in a strong
    year its pull left the truth outside the 95% interval as late as November
    (tests/test_forecast_honest.py).

    Stock = enterprises with a certificate of batch ``year``-2 or ``year``-1 (still valid at
    year end) that survive revocation / moving out for the rest of the year + those already
    certified in batch ``year`` + renewals of certificates expiring this year not yet renewed
    (renewal probability from past cohorts, beta-binomial, times the share of a batch still to
    be issued) + new first-time certifications still to come (``annual`` forecast of past
    years' new certifications times the same share of the year's batches still to come).
    ``baseline_point`` is the count valid today if nothing changed (expiring ones included).
    After the year the stock is known (``details["complete"]``). 数据不足 when no certificate
    of the three batches that can be valid at year end is in the data.
    """
    as_of = pd.Period(as_of, freq="M")
    m = as_of.month if as_of.year == year else 12 if as_of.year > year else 0
    c = _cert_view(certs, as_of)
    through = _event_coverage(certs, "issue_date", as_of)
    by_year = {y: set(g["uscc"]) for y, g in c.groupby("year")}
    removed = set(c.loc[c["removed"], "uscc"])
    base = (by_year.get(year - 2, set()) | by_year.get(year - 1, set())) - removed
    so_far = by_year.get(year, set()) - removed
    pending = (by_year.get(year - 3, set()) - removed) - base - so_far
    held = base | so_far
    history = sum(1 for y in by_year if y < year)
    if not held:
        raise InsufficientDataError(
            f"名单中没有{year - 2}、{year - 1}、{year}年认定批次的有效证书，无法推算{year}年末数量",
            data_through=_ym(through), history_years=history,
        )  # fmt: skip

    a, b, n_cohorts = _renewal_beta(c, year)
    q = _issued_share_by_month(c, year, m) if m else 0.0
    # Yearly attrition (revoked / moved out) over certificates of past batches, per year held.
    past = c[c["year"].lt(year)]
    attr_year = float(past["removed"].mean() / 3) if len(past) else 0.0
    survive = 1 - attr_year * (12 - m) / 12

    # First-time certifications are only identifiable where the batch three years earlier is in the data.
    first = min(by_year) if by_year else year
    new_by_year = pd.Series({y: len(by_year[y] - by_year.get(y - 3, set())) for y in by_year
                             if first + 3 <= y < year}, dtype=float)  # fmt: skip
    new_so_far = len(so_far - by_year.get(year - 3, set()))
    rng = _dist.rng(seed)
    notes = []
    if len(new_by_year):
        # Peers (issue 16): the yearly change of first-time certifications is shrunk toward the
        # growth of high-tech enterprise counts nationally, in Hunan and in the user's peers.
        nf = annual_with_peers(
            new_by_year[new_by_year.index >= new_by_year.index.max() - 5],
            resolve_peers("hitech_enterprises", peers),
            horizon=year - int(new_by_year.index.max()),
        )
        # ``annual`` on 2-5 yearly counts draws from a log-t with few degrees of freedom, whose
        # far tail is unbounded (one draw in 4,000 can exceed 10^13). A district's first-time
        # certifications are bounded in practice: cap at twice the largest year seen.
        cap = 2.0 * float(new_by_year.max())
        new_total = np.clip(nf.draws if nf.draws is not None else np.full(N_SIM, nf.point), 0, cap)
        new_total = rng.choice(new_total, size=N_SIM)
    else:
        new_total = np.zeros(N_SIM)
        if m < 12:
            notes.append("名单年份不足三年，无法识别往年首次认定数，未计今年新增认定")
    # New certifications still to come: the year's forecast times the share of its batches not
    # yet issued (renewals below use the same share). The annual forecast's draws are already
    # predictive, so no count noise is added on top.
    remaining = np.rint(new_total * (1 - q)) if m < 12 else np.zeros(N_SIM)
    p_renew = rng.beta(a, b, size=N_SIM)
    p_later = p_renew * (1 - q) / np.maximum(1 - p_renew * q, 1e-9) if m < 12 else np.zeros(N_SIM)
    draws = (rng.binomial(len(held), survive, size=N_SIM)
             + rng.binomial(len(pending), p_later) + remaining).astype(float)  # fmt: skip
    details = {
        "valid_through_year_end": len(base), "certified_this_year": len(so_far),
        "new_this_year": new_so_far, "expiring_not_renewed": len(pending),
        "renewal_rate_mean": a / (a + b), "renewal_cohorts": n_cohorts,
        "batch_share_issued_by_month": q, "attrition_per_year": attr_year,
        "expected_new_remaining": float(remaining.mean()), "watch_list_size": len(pending),
    }  # fmt: skip
    if m == 12:
        details["complete"] = True  # the year is over: the year-end stock is known
    r = _dist.from_draws(draws, method="stock with expiry (beta-binomial renewals + annual new x share to come)",
                         target=target, comparator=comparator, tolerance=tolerance,
                         baseline_point=float(len(held | pending)), actual_to_date=float(len(held)),
                         details=details)  # fmt: skip
    return _with_coverage(r, through, history, *notes, _stale_note(through, as_of, year))


# --------------------------------------------------------------------------- 科技型中小企业


def _monthly_counts(dates: pd.Series, cutoff: pd.Timestamp) -> pd.Series:
    d = pd.to_datetime(dates)
    d = d[d.le(cutoff)]
    if d.empty:
        return pd.Series(dtype=float, index=pd.PeriodIndex([], freq="M"))
    per = d.dt.to_period("M")
    idx = pd.period_range(pd.Period(f"{per.min().year}-01", freq="M"), per.max(), freq="M")
    return per.value_counts().reindex(idx, fill_value=0).astype(float)


def sme_registrations_monthly(regs: pd.DataFrame, as_of: pd.Period) -> pd.Series:
    """Monthly counts of first registrations of each enterprise in its year, through as_of."""
    first = regs.sort_values("registration_date").drop_duplicates(["uscc", "year"])
    return _monthly_counts(first["registration_date"], month_end(as_of))


def sme_year_end(
    regs: pd.DataFrame, year: int, as_of: pd.Period | str, target: float | None = None, *,
    comparator: str = ">=", tolerance: float = 0.0, seed: int | None = None,
) -> ForecastResult:  # fmt: skip
    """Enterprises registered as 科技型中小企业 in ``year``: registrations so far + the
    cumulative seasonal profile of past years (``year_end_from_ytd`` on monthly counts)."""
    as_of = pd.Period(as_of, freq="M")
    monthly = sme_registrations_monthly(regs, as_of)
    # Registrations are events: a month without any is a zero, not a gap.
    through = _event_coverage(regs, "registration_date", as_of)
    if through is not None and len(monthly):
        full = pd.period_range(monthly.index.min(), through, freq="M")
        monthly = monthly.reindex(full, fill_value=0.0)
    has_year = bool(pd.to_datetime(regs["registration_date"]).le(month_end(as_of))
                    .loc[regs["year"].eq(year)].any())  # fmt: skip
    r = _flow_year_end(monthly, year, as_of, target, through, has_year, "科技型中小企业入库",
                       comparator=comparator, tolerance=tolerance, seed=seed)  # fmt: skip
    return _with_method(r, "SME registrations: " + r.method)


def _flow_year_end(
    monthly: pd.Series, year: int, as_of: pd.Period, target: float | None,
    through: pd.Period | None, has_year: bool, what: str, **kw,
) -> ForecastResult:  # fmt: skip
    """``year_end_from_ytd`` with coverage: 数据不足 when the plan year has no data once its
    first report is due; notes for the fallbacks (annual trend before any month, time-elapsed
    pace without past years) and for data ending before the as-of month."""
    past = monthly[monthly.index.year < year] if len(monthly) else monthly
    history = 0
    if len(past):
        mat = monthly_matrix(past)
        history = int((mat[12].notna() & (mat.sum(axis=1) > 0)).sum())
    seen = f"（数据截至{_zh(through)}）" if through is not None else ""
    if not has_year and not _in_grace(year, as_of):
        raise InsufficientDataError(f"{year}年尚无{what}数据{seen}，无法判断",
                                    data_through=_ym(through), history_years=history)  # fmt: skip
    if not has_year and not history:
        raise InsufficientDataError(f"没有{what}数据{seen}，无法推算",
                                    data_through=_ym(through), history_years=0)  # fmt: skip
    m = as_of.month if as_of.year == year else 12
    r = year_end_from_ytd(monthly, year, m, target, **kw)
    notes = []
    if not has_year:
        notes.append(f"{year}年尚无{what}数据，按往年全年总量趋势推算，区间较宽")
    elif history == 0:
        notes.append(f"仅有{year}年数据，无往年季节规律，按序时进度推算，区间已放宽")
    elif history < 3:
        notes.append(f"往年仅有{history}年完整数据，季节规律估计粗略")
    return _with_coverage(r, through, history, *notes, _stale_note(through, as_of, year))


def sme_watch_list(regs: pd.DataFrame, year: int, as_of: pd.Period | str) -> pd.DataFrame:
    """Last year's registrants not registered again in ``year`` by the end of ``as_of``."""
    as_of = pd.Period(as_of, freq="M")
    known = regs[pd.to_datetime(regs["registration_date"]).le(month_end(as_of))]
    this = set(known.loc[known["year"].eq(year), "uscc"])
    last = known[known["year"].eq(year - 1) & ~known["uscc"].isin(this)]
    cols = ["enterprise_name", "uscc", "registration_no", "registration_date"]
    return last[cols].drop_duplicates("uscc").sort_values("enterprise_name").reset_index(drop=True)


# --------------------------------------------------------------------------- 技术合同


def contracts_monthly(contracts: pd.DataFrame, measure: str, as_of: pd.Period) -> pd.Series:
    """Monthly flows of ``measure`` ("contracts" in 项, "value_yi" in 亿元 from value_wan) with
    the months a combined row covers before its last month left blank (NaN)."""
    if measure == "contracts":
        vals = contracts["contracts"].astype(float)
    elif measure in ("value_yi", "value_wan"):
        vals = contracts["value_wan"].astype(float) / (1e4 if measure == "value_yi" else 1.0)
    else:
        raise ValueError(
            f"unknown tech_contracts measure {measure!r}; expected contracts / value_yi"
        )
    per = pd.PeriodIndex.from_fields(
        year=contracts["year"].to_numpy(), month=contracts["month"].to_numpy(), freq="M"
    )
    s = pd.Series(vals.to_numpy(), index=per).sort_index()
    s = s[s.index <= as_of]
    if s.empty:
        return s
    full = pd.period_range(pd.Period(f"{s.index.min().year}-01", freq="M"), s.index.max(), freq="M")
    return s.reindex(full)


def contracts_year_end(
    contracts: pd.DataFrame, measure: str, year: int, as_of: pd.Period | str,
    target: float | None = None, *, comparator: str = ">=", tolerance: float = 0.0,
    seed: int | None = None,
) -> ForecastResult:  # fmt: skip
    """Calendar-year total of technology contracts (count, or value in 亿元)."""
    as_of = pd.Period(as_of, freq="M")
    monthly = contracts_monthly(contracts, measure, as_of)
    known = monthly.dropna()
    through = known.index.max() if len(known) else None
    has_year = bool(len(known) and (known.index.year == year).any())
    r = _flow_year_end(monthly, year, as_of, target, through, has_year, "技术合同登记",
                       comparator=comparator, tolerance=tolerance, seed=seed)  # fmt: skip
    return _with_coverage(r, r.details["data_through"], r.details["history_years"],
                          _missing_months_note(contracts, year, as_of))  # fmt: skip


def _missing_months_note(contracts: pd.DataFrame, year: int, as_of: pd.Period) -> str:
    """A note naming the months of ``year`` before the last reported one that no row covers
    (a combined 1-2月 row covers January): the model takes them as included in the next
    reported month, which is right for a combined report and wrong for a lost one."""
    rows = contracts[contracts["year"].eq(year)]
    rows = rows[rows["month"].le(as_of.month if as_of.year == year else 12)]
    if rows.empty:
        return ""
    span = rows["months_covered"] if "months_covered" in rows.columns else pd.Series(1, index=rows.index)
    covered = {int(m) - k for m, n in zip(rows["month"], span.fillna(1), strict=True) for k in range(int(n))}
    missing = [m for m in range(1, int(rows["month"].max())) if m not in covered]
    if not missing:
        return ""
    return f"{year}年{'、'.join(f'{m}月' for m in missing)}数据缺失，按并入下一个报告月处理"


def cumulative_path(monthly: pd.Series, year: int, n_past: int = 5) -> pd.DataFrame:
    """Monthly cumulative totals (year, month, cumulative) of the plan year and past years."""
    mat = monthly_matrix(monthly)
    mat = mat[(mat.index <= year) & (mat.index >= year - n_past)]
    rows = []
    for y, row in mat.iterrows():
        v = row.to_numpy()
        reported = np.flatnonzero(~np.isnan(v))
        if not len(reported):
            continue
        cum = np.cumsum(np.nan_to_num(v))
        for mth in range(1, reported[-1] + 2):
            if not np.isnan(v[mth - 1]):
                rows.append({"year": int(y), "month": mth, "cumulative": float(cum[mth - 1])})
    return pd.DataFrame(rows, columns=["year", "month", "cumulative"])


# --------------------------------------------------------------------------- 增加值增速


def _year_month_grid(t: pd.DataFrame, column: str) -> pd.DataFrame:
    """Year x month frame of ``column`` (last value where a month repeats; only the years and
    months that carry a value). Filled with numpy: ``pivot_table`` was most of a growth
    forecast's time in the 2,900-region benchmark."""
    d = t.loc[t[column].notna(), ["year", "month", column]].drop_duplicates(
        ["year", "month"], keep="last"
    )
    years, yi = np.unique(d["year"].to_numpy(), return_inverse=True)
    months, mi = np.unique(d["month"].to_numpy(), return_inverse=True)
    grid = np.full((len(years), len(months)), np.nan)
    grid[yi, mi] = d[column].to_numpy(dtype=float)
    return pd.DataFrame(
        grid, index=pd.Index(years, name="year"), columns=pd.Index(months, name="month")
    )


def _last_reported(grid: pd.DataFrame) -> pd.Period | None:
    """Latest (year, month) with a value in a year x month grid (sorted axes)."""
    finite = np.isfinite(grid.to_numpy(dtype=float))
    rows = np.flatnonzero(finite.any(axis=1))
    if not len(rows):
        return None
    month = grid.columns[np.flatnonzero(finite[rows[-1]])[-1]]
    return pd.Period(year=int(grid.index[rows[-1]]), month=int(month), freq="M")


def growth_full_year(
    va: pd.DataFrame, year: int, as_of: pd.Period | str, target: float | None = None, *,
    comparator: str = ">=", tolerance: float = 0.0, seed: int | None = None,
) -> ForecastResult:  # fmt: skip
    """Full-year growth (%) of high-tech value added from cumulative growth through month m.

    1 + G = w (1 + g_m) + (1 - w)(1 + g_rest): w is the share of months 1..m in last year's
    value added (from ``va_cum_yi``), g_m the cumulative growth so far, and g_rest - g_m the
    rest-of-year deviation, predicted from past years (Student-t, shrunk toward a default
    spread of GROWTH_PRIOR_SD_PP). Value-added shares are nominal, growth real: a small
    approximation.
    """
    as_of = pd.Period(as_of, freq="M")
    t = va[(va["year"] < as_of.year) | ((va["year"] == as_of.year) & (va["month"] <= as_of.month))]
    t = t[t["year"] <= year]
    g = _year_month_grid(t, "growth_cum_pct")
    v = _year_month_grid(t, "va_cum_yi")
    cur = g.loc[year].dropna() if year in g.index else pd.Series(dtype=float)
    full_years = g[g.get(12, pd.Series(dtype=float)).notna()] if 12 in g.columns else g.iloc[0:0]
    full_years = full_years[full_years.index < year]
    history = len(full_years)
    through = _last_reported(g)
    if 12 in cur.index:
        # A reported full-year growth is known: met or not with certainty.
        r = _dist.known(float(cur[12]), method="growth: full year reported", target=target,
                        comparator=comparator, tolerance=tolerance,
                        details={"months_elapsed": 12})  # fmt: skip
        return _with_coverage(r, through, history)
    if cur.empty:
        seen = f"（数据截至{_zh(through)}）" if through is not None else ""
        if not _in_grace(year, as_of):
            raise InsufficientDataError(f"{year}年尚无高新技术产业增加值增速数据{seen}，无法判断",
                                        data_through=_ym(through), history_years=history)  # fmt: skip
        if not history:
            raise InsufficientDataError(f"没有往年全年增速数据{seen}，无法推算",
                                        data_through=_ym(through), history_years=0)  # fmt: skip
        # Before the first monthly figure: the full-year growth history, in percentage points
        # (growth crosses zero; a log scale would not), judged against the target.
        r = annual(full_years[12], horizon=year - int(full_years.index.max()), target=target,
                   comparator=comparator, tolerance=tolerance, level_prior_sd=GROWTH_PRIOR_SD_PP,
                   seed=seed)  # fmt: skip
        r = _with_method(r, "growth: annual trend of full-year growth (pp)")
        return _with_coverage(r, through, history,
                              f"{year}年尚无月度增速，按往年全年增速趋势（百分点）推算，区间较宽")  # fmt: skip
    m = int(cur.index.max())
    gm = float(cur[m])

    def weight(y: int) -> float:
        if (y - 1) in v.index and m in v.columns and 12 in v.columns:
            a, tot = v.loc[y - 1, m], v.loc[y - 1, 12]
            if np.isfinite(a) and np.isfinite(tot) and tot > 0:
                return float(a / tot)
        return m / 12

    devs = []
    for y in full_years.index:
        if m in g.columns and np.isfinite(g.loc[y, m]):
            w_y = weight(y)
            G, gmy = g.loc[y, 12] / 100, g.loc[y, m] / 100
            rest = ((1 + G) - w_y * (1 + gmy)) / (1 - w_y) - 1
            devs.append(100 * (rest - gmy))
    d = np.asarray(devs)
    n = len(d)
    w = weight(year)
    prior = GROWTH_PRIOR_SD_PP
    mean_d = float(d.mean() * n / (n + 1)) if n else 0.0
    var_d = (float(((d - d.mean()) ** 2).sum()) + prior**2) / max(n, 1) if n else prior**2
    df = max(n, 1)
    loc = w * gm + (1 - w) * (gm + mean_d)
    scale = (1 - w) * np.sqrt(var_d * (1 + 1 / max(n, 1)))
    details = {"months_elapsed": m, "weight_ytd": w, "n_years": n, "mean_rest_minus_ytd_pp": mean_d}
    thr = _dist.threshold(target, comparator, tolerance)
    if thr is not None:
        details["required_rest_of_year_growth_pct"] = float(
            100 * (((1 + thr / 100) - w * (1 + gm / 100)) / (1 - w) - 1)
        )
    r = _dist.from_t(loc, scale, df, log=False, method="cumulative growth + rest-of-year deviation (t)",
                     target=target, comparator=comparator, tolerance=tolerance,
                     baseline_point=gm, actual_to_date=gm, seed=seed, details=details)  # fmt: skip
    notes = [] if n >= 3 else [f"往年仅有{n}年同月增速，年内剩余月份的波动按默认幅度估计"]
    return _with_coverage(r, through, history, *notes, _stale_note(through, as_of, year))


def growth_path(va: pd.DataFrame, year: int, as_of: pd.Period, n_past: int = 5) -> pd.DataFrame:
    t = va[(va["year"] < as_of.year) | ((va["year"] == as_of.year) & (va["month"] <= as_of.month))]
    t = t[(t["year"] <= year) & (t["year"] >= year - n_past)]
    return (t[["year", "month", "growth_cum_pct"]].rename(columns={"growth_cum_pct": "cumulative"})
            .astype({"year": int, "month": int}).sort_values(["year", "month"]).reset_index(drop=True))  # fmt: skip


# --------------------------------------------------------------------------- R&D 强度


def rd_intensity_series(rd: pd.DataFrame, gdp: pd.DataFrame, before_year: int) -> pd.DataFrame:
    """Per year < ``before_year``: rd_wan, units (reporting units), gdp_yi, intensity_pct."""
    r = rd[rd["year"] < before_year].groupby("year").agg(rd_wan=("rd_expenditure_wan", "sum"),
                                                         units=("uscc", "nunique"))  # fmt: skip
    g = gdp[gdp["year"] < before_year].set_index("year")["gdp_yi"]
    out = r.join(g, how="inner")
    return out.assign(intensity_pct=out["rd_wan"] / 1e4 / out["gdp_yi"] * 100)


def published_through(as_of: pd.Period, lag_months: int) -> int:
    """Last year whose statistics are published by the end of month ``as_of`` when a year's
    figures appear ``lag_months`` after its end (lag 9: year Y from September of Y+1)."""
    return int((as_of - int(lag_months)).year) - (1 if (as_of - int(lag_months)).month < 12 else 0)


def rd_intensity(
    rd: pd.DataFrame, gdp: pd.DataFrame, ref_year: int, as_of: pd.Period | str,
    target: float | None = None, *, comparator: str = ">=", tolerance: float = 0.0,
    completeness: float = 0.9, publication_lag_months: int | None = None,
    seed: int | None = None, peers: pd.DataFrame | str | None = "default",
) -> ForecastResult:  # fmt: skip
    """R&D intensity (%) of ``ref_year`` = R&D expenditure (万元 / 1e4 = 亿元) / GDP (亿元) x 100.

    A year counts only once published by the end of ``as_of``: ``publication_lag_months``
    after its end (default DEFAULT_RD_PUBLICATION_LAG_MONTHS). When ``ref_year`` is published
    and complete (its reporting units >= ``completeness`` x last year's, and GDP present) the
    value is known and the target met or not with certainty; otherwise ``annual`` on the
    intensity of published complete years, or with ``peers`` (default: the provinces'
    yearbook intensities and data/raw/public/peers.csv) ``annual_panel`` among them, with a
    note saying so.
    """
    as_of = pd.Period(as_of, freq="M")
    lag = DEFAULT_RD_PUBLICATION_LAG_MONTHS if publication_lag_months is None else int(publication_lag_months)
    last_published = published_through(as_of, lag)
    s = rd_intensity_series(rd, gdp, min(last_published, ref_year) + 1)
    prev_units = s["units"].shift(1)
    complete = s[(s["units"] >= completeness * prev_units.fillna(0)) & (s["gdp_yi"] > 0)]
    through = pd.Period(year=int(complete.index.max()), month=12, freq="M") if len(complete) else None
    if ref_year in complete.index:
        x = float(complete.loc[ref_year, "intensity_pct"])
        r = _dist.known(x, method="reported ratio", target=target, comparator=comparator,
                        tolerance=tolerance,
                        details={"rd_yi": float(complete.loc[ref_year, "rd_wan"] / 1e4),
                                 "gdp_yi": float(complete.loc[ref_year, "gdp_yi"])})  # fmt: skip
        return _with_coverage(r, through, len(complete))
    hist = complete.loc[complete.index < ref_year, "intensity_pct"]
    if ref_year > last_published:
        due = pd.Period(year=ref_year, month=12, freq="M") + lag
        why = f"{ref_year}年研发经费统计按惯例于{_ym(due)}发布（滞后{lag}个月），截至{_zh(as_of)}尚未计入"
    else:
        why = f"{ref_year}年研发经费或地区生产总值数据缺失或不完整"
    if hist.empty:
        raise InsufficientDataError(f"{why}，且没有可用的往年研发强度，无法推算",
                                    data_through=_ym(through), history_years=0)  # fmt: skip
    # Peers (issue 16): provinces' and the user's peer districts' intensities (annual_panel).
    r = annual_with_peers(hist, resolve_peers("rd_intensity", peers), horizon=ref_year - int(hist.index.max()),
                          target=target, comparator=comparator, tolerance=tolerance, seed=seed)  # fmt: skip
    r = _with_method(r, "ratio trend: " + r.method, complete=False)
    span = f"{int(hist.index.min())}–{int(hist.index.max())}年" if len(hist) > 1 else f"{int(hist.index.max())}年"
    return _with_coverage(r, through, len(hist), f"{why}；按{span}强度趋势推算")


# --------------------------------------------------------------------------- pipelines


def poisson_binomial_pmf(probs: np.ndarray) -> np.ndarray:
    """Exact pmf of the number of successes of independent Bernoulli(p_i) trials (length n+1).

    Hand-written dynamic programme (O(n^2), exact up to rounding): neither numpy, scipy nor
    statsmodels ships the Poisson-binomial distribution, and pipelines hold tens of candidates.
    """
    pmf = np.ones(1)
    for p in np.asarray(probs, dtype=float):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {p}")
        pmf = np.concatenate([pmf * (1 - p), [0.0]]) + np.concatenate([[0.0], pmf * p])
    return pmf


def load_stage_probabilities(source: str | os.PathLike[str] | Mapping | None) -> dict:
    """Stage -> probability, or pipeline -> {stage -> probability}, from a dict, a YAML file or a
    CSV file with columns ``stage``, ``probability`` and optionally ``pipeline``."""
    if source is None:
        return dict(DEFAULT_STAGE_PROBABILITIES)
    if isinstance(source, Mapping):
        return dict(source)
    path = os.fspath(source)
    if path.endswith((".yaml", ".yml")):
        return dict(read_yaml_document(path, InputFileError, ("阶段概率文件", "stage probabilities file"),
                                       "stage: probability"))  # fmt: skip
    t = pd.read_csv(path)
    if "pipeline" in t.columns:
        return {
            p: dict(zip(g["stage"], g["probability"].astype(float), strict=True))
            for p, g in t.groupby("pipeline")
        }
    return dict(zip(t["stage"], t["probability"].astype(float), strict=True))


def _stage_p(probs: Mapping, pipeline: str, stage: str) -> float:
    table = probs.get(pipeline, probs) if isinstance(probs.get(pipeline), Mapping) else probs
    p = table.get(stage, DEFAULT_STAGE_PROBABILITIES.get(stage))
    if p is None:
        raise ValueError(
            f"no success probability for stage {stage!r} of pipeline {pipeline!r} (阶段无成功概率)"
        )
    return float(p)


# Order in which a pipeline's candidates are listed (nearest to recognition first).
STAGE_ORDER = ("已认定", "评审中", "申报中", "储备", "未通过")


def pipeline_candidates(
    pipelines: pd.DataFrame, pipeline: str, year: int, as_of: pd.Period | str,
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None,
) -> pd.DataFrame:  # fmt: skip
    """The candidates of ``pipeline`` for ``year`` as known at the end of ``as_of``.

    Columns: ``candidate``, ``category``, ``stage`` (as of ``as_of``: a recognition dated later
    counts as 评审中), ``expected_date``, ``recognized_date``, ``responsible_unit`` (empty when
    the ledger has none), ``achieved`` (recognised in the year by ``as_of``), ``pending`` (may
    still be recognised in the year), ``probability`` of counting toward the year's total (1 for
    achieved, the stage's success probability for pending, 0 otherwise). Sorted by stage
    (``STAGE_ORDER``) and expected date. ``pipeline_count`` is the distribution of its total.
    """
    as_of = pd.Period(as_of, freq="M")
    probs = load_stage_probabilities(stage_probabilities)
    p = pipelines[(pipelines["pipeline"] == pipeline) & (pipelines["year"] == year)]
    through = _event_coverage(p, "recognized_date", as_of) if len(p) else None
    if p.empty:
        from ..data.kinds import PIPELINES

        name = PIPELINES.get(pipeline, (pipeline,))[0]
        raise InsufficientDataError(f"台账中没有{year}年的{name}记录，无法判断",
                                    data_through=_ym(through))  # fmt: skip
    notes = []
    ledger = _ledger_date(p)
    needed = min(as_of, pd.Period(year=year, month=12, freq="M"))
    if ledger is not None and pd.Period(ledger, freq="M") < needed:
        # The ledger tells where things stood on its date; later months are not in it. Judge
        # as of that date (pending candidates stay pending) and say so.
        what = "截至月份" if needed == as_of else "计划年末"
        notes.append(f"台账截至{ledger:%Y-%m-%d}，早于{what}{_ym(needed)}，按台账日期的进度判断")
        as_of = pd.Period(ledger, freq="M")
    cutoff = month_end(as_of)
    rec = pd.to_datetime(p["recognized_date"])
    stage = p["stage"].astype(str)
    achieved = stage.eq("已认定") & rec.le(cutoff) & rec.dt.year.eq(year)
    stage = stage.mask(stage.eq("已认定") & ~achieved, "评审中")
    expected = pd.to_datetime(p["expected_date"])
    pending = ~achieved & ~stage.eq("未通过") & ~(expected.dt.year > year)
    prob = np.where(achieved, 1.0, 0.0)
    if pending.any() and as_of.year <= year:  # a past year: nothing pending can still count
        prob[pending.to_numpy()] = [_stage_p(probs, pipeline, st) for st in stage[pending]]
    unit = (p["responsible_unit"] if "responsible_unit" in p.columns
            else pd.Series(pd.NA, index=p.index, dtype="str"))  # fmt: skip
    out = pd.DataFrame({
        "candidate": p["candidate"], "category": p["category"], "stage": stage,
        "expected_date": expected, "recognized_date": rec.where(achieved),
        "responsible_unit": unit, "achieved": achieved, "pending": pending, "probability": prob,
    })  # fmt: skip
    rank = out["stage"].map({s: i for i, s in enumerate(STAGE_ORDER)}).fillna(len(STAGE_ORDER))
    order = out.assign(_rank=rank).sort_values(
        ["_rank", "expected_date", "candidate"], na_position="last", kind="stable"
    )
    out = order.drop(columns="_rank").reset_index(drop=True)
    # What pipeline_count reports beside its numbers: the ledger's coverage and notes.
    out.attrs.update(data_through=through, notes=tuple(notes))
    return out


def pipeline_count(
    pipelines: pd.DataFrame, pipeline: str, year: int, as_of: pd.Period | str,
    target: float | None = None, *, comparator: str = ">=", tolerance: float = 0.0,
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None, seed: int | None = None,
) -> ForecastResult:  # fmt: skip
    """Count achieved in ``year`` for ``pipeline``: candidates 已认定 with a recognition date in
    the year on or before ``as_of``, plus the exact Poisson-binomial distribution of pending
    candidates' successes (probability by stage, DEFAULT_STAGE_PROBABILITIES unless
    overridden). Candidates recognised after ``as_of`` count as 评审中; 未通过 and candidates
    expected after the plan year count zero (``pipeline_candidates`` lists them). A ledger
    dated before the as-of month is judged at its date, with a note."""
    c = pipeline_candidates(pipelines, pipeline, year, as_of, stage_probabilities)
    pending = c[c["pending"]]
    # 0 for every pending candidate when the year is over at the ledger's date
    ps = pending["probability"].to_numpy(dtype=float)
    pmf = poisson_binomial_pmf(ps)
    k = int(c["achieved"].sum())
    details = {"achieved": k, "pending": len(pending), "expected_successes": float(ps.sum()),
               "pending_by_stage": pending["stage"].value_counts().to_dict()}  # fmt: skip
    r = _dist.from_pmf(k + np.arange(len(pmf)), pmf, method="achieved + Poisson-binomial pending",
                       target=target, comparator=comparator, tolerance=tolerance,
                       baseline_point=float(k), actual_to_date=float(k), seed=seed, details=details)  # fmt: skip
    return _with_coverage(r, c.attrs["data_through"], 0, *c.attrs["notes"])


def _ledger_date(p: pd.DataFrame) -> pd.Timestamp | None:
    """The date a ledger was made up to, from its files' names (``…台账_2024-09-30.xlsx``)."""
    if "source_file" not in p.columns:
        return None
    from ..data.coverage import latest_report_date

    return latest_report_date(p["source_file"])


def _with_method(r: ForecastResult, method: str, **extra) -> ForecastResult:
    from dataclasses import replace

    return replace(r, method=method, details={**r.details, **extra})


__all__ = [
    "DEFAULT_STAGE_PROBABILITIES", "contracts_monthly", "contracts_year_end", "cumulative_path",
    "growth_full_year", "growth_path", "hitech_watch_list", "hitech_year_end",
    "load_stage_probabilities", "pipeline_candidates", "pipeline_count", "poisson_binomial_pmf", "rd_intensity",
    "rd_intensity_series", "sme_registrations_monthly", "sme_watch_list", "sme_year_end",
]  # fmt: skip
