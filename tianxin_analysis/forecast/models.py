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
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
import yaml

from . import _dist
from .annual import annual
from .panel import annual_with_peers, resolve_peers
from .result import ForecastResult
from .ytd import monthly_matrix, year_end_from_ytd

REMOVED_STATUSES = ("已撤销", "已迁出")
# Default probability that a pending candidate is recognised within the plan year, by stage.
# Rough priors from how such lists usually convert (储备 = only identified, 申报中 = application
# filed, 评审中 = under expert review); override with ``stage_probabilities``.
DEFAULT_STAGE_PROBABILITIES = {"储备": 0.25, "申报中": 0.5, "评审中": 0.8}
N_SIM = 4000
# Relative measurement uncertainty of a published ratio (GDP and R&D revisions), 1 sd.
RATIO_MEASUREMENT_REL_SD = 0.01
# Default spread (percentage points) of rest-of-year minus year-to-date growth.
GROWTH_PRIOR_SD_PP = 2.0


def month_end(as_of: pd.Period) -> pd.Timestamp:
    """Last instant of month ``as_of`` (dates are compared with <=)."""
    return (as_of + 1).to_timestamp() - pd.Timedelta(nanoseconds=1)


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
    peers: pd.DataFrame | str | None = "default",
) -> ForecastResult:  # fmt: skip
    """Valid high-tech enterprises at the end of ``year``.

    Stock = enterprises with a certificate of batch ``year``-2 or ``year``-1 (still valid at
    year end) that survive revocation / moving out for the rest of the year + those already
    certified in batch ``year`` + renewals of certificates expiring this year not yet renewed
    (renewal probability from past cohorts, beta-binomial, times the share of a batch still to
    be issued) + new first-time certifications still to come (``annual`` forecast of past
    years' new certifications.
    ``baseline_point`` is the count valid today if nothing changed (expiring ones included).
    """
    as_of = pd.Period(as_of, freq="M")
    m = as_of.month if as_of.year == year else 12 if as_of.year > year else 0
    c = _cert_view(certs, as_of)
    by_year = {y: set(g["uscc"]) for y, g in c.groupby("year")}
    removed = set(c.loc[c["removed"], "uscc"])
    base = (by_year.get(year - 2, set()) | by_year.get(year - 1, set())) - removed
    so_far = by_year.get(year, set()) - removed
    pending = (by_year.get(year - 3, set()) - removed) - base - so_far
    held = base | so_far

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
    # New certifications still to come: the year's forecast less those already certified.
    lam = np.maximum(new_total - new_so_far, 0.0)
    p_renew = rng.beta(a, b, size=N_SIM)
    p_later = p_renew * (1 - q) / np.maximum(1 - p_renew * q, 1e-9) if m < 12 else np.zeros(N_SIM)
    draws = (rng.binomial(len(held), survive, size=N_SIM)
             + rng.binomial(len(pending), p_later)
             + (rng.poisson(lam) if m < 12 else 0)).astype(float)  # fmt: skip
    details = {
        "valid_through_year_end": len(base), "certified_this_year": len(so_far),
        "new_this_year": new_so_far, "expiring_not_renewed": len(pending),
        "renewal_rate_mean": a / (a + b), "renewal_cohorts": n_cohorts,
        "batch_share_issued_by_month": q, "attrition_per_year": attr_year,
        "expected_new_remaining": float(lam.mean()), "watch_list_size": len(pending),
    }  # fmt: skip
    return _dist.from_draws(draws, method="stock with expiry (beta-binomial renewals + Poisson new)",
                            target=target, comparator=comparator, tolerance=tolerance,
                            baseline_point=float(len(held | pending)), actual_to_date=float(len(held)),
                            details=details)  # fmt: skip


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
    m = as_of.month if as_of.year == year else 12
    r = year_end_from_ytd(
        monthly, year, m, target, comparator=comparator, tolerance=tolerance, seed=seed
    )
    return _with_method(r, "SME registrations: " + r.method)


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
    m = as_of.month if as_of.year == year else 12
    return year_end_from_ytd(
        monthly, year, m, target, comparator=comparator, tolerance=tolerance, seed=seed
    )


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
    if 12 in cur.index:
        gm = float(cur[12])
        return _dist.from_t(gm, 0.05, 1e6, log=False, method="growth: full year reported",
                            target=target, comparator=comparator, tolerance=tolerance,
                            baseline_point=gm, actual_to_date=gm, seed=seed,
                            details={"months_elapsed": 12})  # fmt: skip
    full_years = g[g.get(12, pd.Series(dtype=float)).notna()] if 12 in g.columns else g.iloc[0:0]
    if cur.empty:
        r = (
            annual(full_years[12], horizon=year - int(full_years.index.max()))
            if len(full_years)
            else None
        )
        if r is None:
            raise ValueError(f"no value-added growth data before {as_of} (无增加值增速数据)")
        return _with_method(r, "growth: annual trend of full-year growth")
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
    return _dist.from_t(loc, scale, df, log=False, method="cumulative growth + rest-of-year deviation (t)",
                        target=target, comparator=comparator, tolerance=tolerance,
                        baseline_point=gm, actual_to_date=gm, seed=seed, details=details)  # fmt: skip


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


def rd_intensity(
    rd: pd.DataFrame, gdp: pd.DataFrame, ref_year: int, as_of: pd.Period | str,
    target: float | None = None, *, comparator: str = ">=", tolerance: float = 0.0,
    completeness: float = 0.9, seed: int | None = None,
    peers: pd.DataFrame | str | None = "default",
) -> ForecastResult:  # fmt: skip
    """R&D intensity (%) of ``ref_year`` = R&D expenditure (万元 / 1e4 = 亿元) / GDP (亿元) x 100.

    Only years that ended before ``as_of`` count. When ``ref_year`` is complete (its reporting
    units >= ``completeness`` x last year's, and GDP present) the result is the actual value with
    a small measurement interval (relative sd RATIO_MEASUREMENT_REL_SD for revisions); otherwise
    ``annual`` on the intensity of complete years, or with ``peers`` (default: the provinces'
    yearbook intensities and data/raw/public/peers.csv) ``annual_panel`` among them.
    """
    as_of = pd.Period(as_of, freq="M")
    s = rd_intensity_series(rd, gdp, min(as_of.year, ref_year + 1))
    prev_units = s["units"].shift(1)
    complete = s[(s["units"] >= completeness * prev_units.fillna(0)) & (s["gdp_yi"] > 0)]
    if ref_year in complete.index:
        x = float(complete.loc[ref_year, "intensity_pct"])
        return _dist.from_t(np.log(x), RATIO_MEASUREMENT_REL_SD, 1e6, log=True,
                            method="reported ratio (measurement interval)", target=target,
                            comparator=comparator, tolerance=tolerance, baseline_point=x,
                            actual_to_date=x, seed=seed,
                            details={"complete": True, "rd_yi": float(complete.loc[ref_year, "rd_wan"] / 1e4),
                                     "gdp_yi": float(complete.loc[ref_year, "gdp_yi"])})  # fmt: skip
    hist = complete.loc[complete.index < ref_year, "intensity_pct"]
    if hist.empty:
        raise ValueError(f"no complete R&D intensity year before {ref_year} (无完整的研发强度年份)")
    # Peers (issue 16): provinces' and the user's peer districts' intensities (annual_panel).
    r = annual_with_peers(hist, resolve_peers("rd_intensity", peers), horizon=ref_year - int(hist.index.max()),
                          target=target, comparator=comparator, tolerance=tolerance, seed=seed)  # fmt: skip
    return _with_method(r, "ratio trend: " + r.method, complete=False)


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
        with open(path, encoding="utf-8") as fh:
            return dict(yaml.safe_load(fh))
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


def pipeline_count(
    pipelines: pd.DataFrame, pipeline: str, year: int, as_of: pd.Period | str,
    target: float | None = None, *, comparator: str = ">=", tolerance: float = 0.0,
    stage_probabilities: str | os.PathLike[str] | Mapping | None = None, seed: int | None = None,
) -> ForecastResult:  # fmt: skip
    """Count achieved in ``year`` for ``pipeline``: candidates 已认定 with a recognition date in
    the year on or before ``as_of``, plus the exact Poisson-binomial distribution of pending
    candidates' successes (probability by stage, DEFAULT_STAGE_PROBABILITIES unless
    overridden). Candidates recognised after ``as_of`` count as 评审中; 未通过 and candidates
    expected after the plan year count zero."""
    as_of = pd.Period(as_of, freq="M")
    cutoff = month_end(as_of)
    probs = load_stage_probabilities(stage_probabilities)
    p = pipelines[(pipelines["pipeline"] == pipeline) & (pipelines["year"] == year)]
    rec = pd.to_datetime(p["recognized_date"])
    stage = p["stage"].astype(str)
    achieved = stage.eq("已认定") & rec.le(cutoff) & rec.dt.year.eq(year)
    stage = stage.mask(stage.eq("已认定") & ~achieved, "评审中")
    expected = pd.to_datetime(p["expected_date"])
    pending = ~achieved & ~stage.eq("未通过") & ~(expected.dt.year > year)
    ps = np.array([_stage_p(probs, pipeline, s) for s in stage[pending]])
    if as_of.year > year:
        ps = np.zeros(0)
    pmf = poisson_binomial_pmf(ps)
    k = int(achieved.sum())
    details = {"achieved": k, "pending": int(pending.sum()), "expected_successes": float(ps.sum()),
               "pending_by_stage": stage[pending].value_counts().to_dict()}  # fmt: skip
    return _dist.from_pmf(k + np.arange(len(pmf)), pmf, method="achieved + Poisson-binomial pending",
                          target=target, comparator=comparator, tolerance=tolerance,
                          baseline_point=float(k), actual_to_date=float(k), seed=seed, details=details)  # fmt: skip


def _with_method(r: ForecastResult, method: str, **extra) -> ForecastResult:
    from dataclasses import replace

    return replace(r, method=method, details={**r.details, **extra})


__all__ = [
    "DEFAULT_STAGE_PROBABILITIES", "contracts_monthly", "contracts_year_end", "cumulative_path",
    "growth_full_year", "growth_path", "hitech_watch_list", "hitech_year_end",
    "load_stage_probabilities", "pipeline_count", "poisson_binomial_pmf", "rd_intensity",
    "rd_intensity_series", "sme_registrations_monthly", "sme_watch_list", "sme_year_end",
]  # fmt: skip
