"""Forecasts of many short annual series at once that borrow strength: ``annual_panel``.

A province's (or district's) own drift over 5–10 years is mostly noise: in the yearbook panels
the empirical-Bayes weight on a series' own drift comes out near 0.1. Each series is modelled
as a random walk with drift (on the log scale when positive, else on its level divided by its
mean absolute value) whose drift is drawn from the group's distribution:

- own drift mu_i = (z_last - z_first) / span, its sampling variance sigma_i^2 / n_i;
- the yearly-change variance sigma_i^2 is itself shrunk toward the pooled variance of the
  group (a scaled inverse-chi-square prior worth ``PRIOR_DF`` changes), so a series with three
  changes does not get an interval from three numbers;
- the group drift mu_g and the between-series variance tau^2 of drifts by DerSimonian-Laird
  moments; each drift is shrunk: mu_i* = B_i mu_i + (1 - B_i) mu_g, B_i = tau^2 / (tau^2 +
  sigma_i^2 / n_i);
- predictive: Student-t with ``TAIL_DF`` degrees of freedom (one tail shape for every series),
  location z_last + h mu_i*, variance (h sigma_i^2 + h^2 B_i sigma_i^2 / n_i) times
  ``INTERVAL_SCALE``^2 (per yearbook table ``INTERVAL_SCALE_BY_TABLE``).

``PRIOR_DF`` was chosen on the tuning half of the yearbook panels only
(``tianxin_analysis.backtest.tune_annual_panel``), ``TAIL_DF`` and the interval scales from the
studentised errors of the same series (``backtest.tune_panel_intervals``); the figures in docs/methods.md come from the
reporting half. Everything is vectorised over series (2,900 series in well under a second).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from . import _dist
from .result import ForecastResult

# Chosen on the tuning set (see module docstring); re-derive with backtest.tune_annual_panel()
# (PRIOR_DF) and backtest.tune_panel_intervals() (the rest).
PRIOR_DF = 1.0
# Tail shape of the predictive Student-t, the same for every series: the t whose 95% / 80%
# quantile ratio matches the studentised one-step errors of the tuning series (each error
# divided by its own series' predictive spread, each table's errors by their 80% quantile).
# Until issue 16's fourth pass the df was each series' own (PRIOR_DF + changes - 1, 3 to 10):
# tails too thin, so 95% intervals under-covered (contract value 0.89, high-tech 0.88 on the
# reporting half) while 80% intervals were right.
TAIL_DF = 2.5
# Pooled factor on the predictive spread (panels of other series, e.g. the fresh hold-out):
# the 80% quantile of all tuning errors |u| over t_TAIL_DF(0.9). Left-one-table-out on the
# tuning tables (tail df and scale fitted on the other two) it covered 0.72 / 0.82 / 0.83 at
# 80% and 0.94 / 0.95 / 0.95 at 95%: what a table the model never saw can expect.
INTERVAL_SCALE = 0.61
# The same factor per yearbook panel (family of series), from that table's tuning errors
# alone (the panel cut to its tuning series, so no reporting series is read). One pooled
# scale under-covered high-tech revenue (shock years, a definition break) and over-covered
# the smooth R&D intensity. Panels not listed here use INTERVAL_SCALE.
INTERVAL_SCALE_BY_TABLE = {
    "hitech-industry-by-region": 0.68,
    "rd-intensity-by-region": 0.59,
    "tech-market-outflow-value": 0.53,
}

PANEL_COLUMNS = ["point", "lower", "upper", "lower95", "upper95", "p_meet", "method"]


def interval_scale_for(table: str | None) -> float:
    """The interval scale of yearbook panel ``table`` (INTERVAL_SCALE when it has none)."""
    return INTERVAL_SCALE_BY_TABLE.get(table or "", INTERVAL_SCALE)


def _prepare(panel: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("series", "year", "value") if c not in panel.columns]
    if missing:
        raise ValueError(
            f"annual_panel: 面板缺少列 (panel lacks columns) {missing}; "
            "expected a long frame with series, year, value"
        )
    d = panel.loc[panel["value"].notna(), ["series", "year", "value"]]
    if d.empty:
        raise ValueError("annual_panel: 面板为空 (panel holds no value)")
    d = d.astype({"year": "int64", "value": "float64"}).sort_values(
        ["series", "year"], kind="stable"
    )
    dup = d.duplicated(["series", "year"])
    if dup.any():
        first = d.loc[dup].iloc[0]
        raise ValueError(
            f"annual_panel: 同一序列同一年份有多个值 (duplicate series-year) {first['series']!r} {first['year']}"
        )
    return d.reset_index(drop=True)


def panel_fit(panel: pd.DataFrame, horizon: int = 1, *, prior_df: float = PRIOR_DF,
              interval_scale: float = INTERVAL_SCALE,
              tail_df: float | None = TAIL_DF) -> pd.DataFrame:  # fmt: skip
    """The predictive distribution of every series ``horizon`` years past its own last year:
    a frame indexed by ``series`` with ``loc``, ``scale``, ``df`` (Student-t on the model
    scale: ``tail_df`` for every series, or each series' own ``prior_df + changes - 1`` when
    ``tail_df`` is None), ``log`` (bool), ``unit`` (level-scale divisor), ``n_years``, ``last_year``,
    ``last_value``, ``forecast_year``, ``own_drift``, ``group_drift``, ``weight_own`` (B_i)."""
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    d = _prepare(panel)
    codes, names = pd.factorize(d["series"], sort=False)
    k = len(names)
    v = d["value"].to_numpy()
    yr = d["year"].to_numpy()
    pos = np.ones(k, bool)
    np.logical_and.at(pos, codes, v > 0)
    unit = np.bincount(codes, weights=np.abs(v)) / np.bincount(codes)
    unit = np.where(unit > 0, unit, 1.0)
    z = np.where(pos[codes], np.log(np.where(v > 0, v, 1.0)), v / unit[codes])

    first = np.r_[True, codes[1:] != codes[:-1]]
    last = np.r_[codes[1:] != codes[:-1], True]
    z_first, z_last = z[first], z[last]
    y_first, y_last = yr[first], yr[last]
    span = (y_last - y_first).astype(float)
    n_obs = np.bincount(codes).astype(float)
    has = span > 0
    own = np.where(has, (z_last - z_first) / np.where(has, span, 1.0), 0.0)

    # Yearly changes (a change over a gap of g years counts as g changes of 1/g each).
    step = ~first
    gap = np.diff(yr, prepend=yr[0]).astype(float)
    dz = np.diff(z, prepend=z[0])
    c = codes[step]
    g = gap[step]
    rate = dz[step] / g
    resid2 = g * (rate - own[c]) ** 2
    ss = np.bincount(c, weights=resid2, minlength=k)
    n_chg = span  # number of yearly changes
    dof = np.maximum(n_chg - 1, 0.0)
    pooled_var = float(ss.sum() / dof.sum()) if dof.sum() > 0 else 0.0
    if not pooled_var > 0:
        pooled_var = 1e-4  # no series with two changes: a 1% yearly sd as the only honest guess
    var_i = (prior_df * pooled_var + ss) / (prior_df + dof)

    # DerSimonian-Laird between-series variance of drifts.
    se2 = np.where(has, var_i / np.where(has, n_chg, 1.0), np.inf)
    w = np.where(has, 1 / se2, 0.0)
    if w.sum() > 0:
        mu_fixed = float(np.sum(w * own) / w.sum())
        q = float(np.sum(w * (own - mu_fixed) ** 2))
        denom = w.sum() - np.sum(w**2) / w.sum()
        m = int(has.sum())
        tau2 = max(0.0, (q - (m - 1)) / denom) if denom > 0 else 0.0
        wr = np.where(has, 1 / (tau2 + se2), 0.0)
        mu_g = float(np.sum(wr * own) / wr.sum())
    else:
        tau2, mu_g = 0.0, 0.0
    b = np.where(has, tau2 / (tau2 + se2), 0.0) if tau2 > 0 else np.zeros(k)
    drift = b * own + (1 - b) * mu_g
    # Variance of the shrunk drift: the posterior B sigma^2 / n; with no change seen, tau^2.
    drift_var = np.where(has, b * se2, tau2)
    h = float(horizon)
    scale = interval_scale * np.sqrt(h * var_i + h**2 * drift_var)
    out = pd.DataFrame({
        "loc": z_last + h * drift, "scale": scale,
        "df": prior_df + dof if tail_df is None else np.full(k, float(tail_df)), "log": pos,
        "unit": np.where(pos, 1.0, unit), "n_years": n_obs.astype(int),
        "last_year": y_last, "last_value": v[last], "forecast_year": y_last + int(horizon),
        "own_drift": own, "group_drift": mu_g, "weight_own": b,
    }, index=pd.Index(names, name="series"))  # fmt: skip
    return out


def _to_value(fit: pd.DataFrame, q: np.ndarray) -> np.ndarray:
    z = fit["loc"].to_numpy() + fit["scale"].to_numpy() * stats.t.ppf(q, fit["df"].to_numpy())
    return np.where(fit["log"].to_numpy(), np.exp(z), z * fit["unit"].to_numpy())


def annual_panel_quantiles(fit: pd.DataFrame) -> pd.DataFrame:
    """``point`` (median), ``lower``/``upper`` (80%), ``lower95``/``upper95`` of a
    ``panel_fit`` frame, indexed like it."""
    levels = {"point": 0.5, "lower": 0.1, "upper": 0.9, "lower95": 0.025, "upper95": 0.975}
    return pd.DataFrame({k: _to_value(fit, np.full(len(fit), q)) for k, q in levels.items()},
                        index=fit.index)  # fmt: skip


def annual_panel(panel: pd.DataFrame, horizon: int = 1,
                 target: float | Mapping[str, float] | None = None, *,
                 interval_scale: float | None = None) -> pd.DataFrame:  # fmt: skip
    """Forecast every series of ``panel`` ``horizon`` years past its own last year, each drift
    shrunk toward the group's by empirical Bayes (see the module docstring).

    ``panel``: long frame with ``series``, ``year`` (int), ``value``; series may have different
    spans and gaps. ``target``: a scalar for all series or a mapping series -> target (series
    without one get NaN); ``p_meet`` = P(value >= target). Returns a frame indexed by
    ``series`` with ``point`` (median), ``lower``/``upper`` (80%), ``lower95``/``upper95``,
    ``p_meet`` and ``method``. ``interval_scale``: the factor on the predictive spread
    (default INTERVAL_SCALE; ``interval_scale_for(table)`` for a yearbook panel)."""
    fit = panel_fit(
        panel, horizon, interval_scale=INTERVAL_SCALE if interval_scale is None else interval_scale
    )
    out = annual_panel_quantiles(fit)
    p = np.full(len(fit), np.nan)
    if target is not None:
        tgt = (fit.index.to_series().map(target) if isinstance(target, Mapping)
               else pd.Series(float(target), index=fit.index)).to_numpy(dtype=float)  # fmt: skip
        p = _prob_at_least(fit, tgt)
    out["p_meet"] = p
    out["method"] = np.where(fit["log"], "panel EB drift (log)", "panel EB drift (level)")
    return out[PANEL_COLUMNS]


def _prob_at_least(fit: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    log = fit["log"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        zx = np.where(log, np.log(np.where(x > 0, x, np.nan)), x / fit["unit"].to_numpy())
        p = stats.t.sf((zx - fit["loc"].to_numpy()) / fit["scale"].to_numpy(), fit["df"].to_numpy())
    p = np.where(log & (x <= 0), 1.0, p)
    return np.where(np.isnan(x), np.nan, p)


def annual_panel_result(panel: pd.DataFrame, series: str, horizon: int = 1,
                        target: float | None = None, *, comparator: str = ">=",
                        tolerance: float = 0.0, seed: int | None = None,
                        interval_scale: float | None = None) -> ForecastResult:  # fmt: skip
    """``annual_panel``'s forecast of one ``series`` of ``panel`` as a ``ForecastResult``
    (quantiles, p_meet and chart draws from the same Student-t), with the peers' group drift
    and the weight on the series' own drift in ``details``."""
    fit = panel_fit(
        panel, horizon, interval_scale=INTERVAL_SCALE if interval_scale is None else interval_scale
    )
    if series not in fit.index:
        raise KeyError(f"series {series!r} not in the panel (面板中没有该序列)")
    r = fit.loc[series]
    log = bool(r["log"])
    unit = float(r["unit"])
    details = {"n_years": int(r["n_years"]), "last_year": int(r["last_year"]),
               "forecast_year": int(r["forecast_year"]), "scale": "log" if log else "level",
               "own_drift": float(r["own_drift"]), "group_drift": float(r["group_drift"]),
               "weight_own": float(r["weight_own"]), "peers": int(len(fit) - 1),
               "naive": float(r["last_value"])}  # fmt: skip
    if log:
        return _dist.from_t(float(r["loc"]), float(r["scale"]), float(r["df"]), log=True,
                            method="panel EB drift (log)", target=target, comparator=comparator,
                            tolerance=tolerance, baseline_point=float(r["last_value"]),
                            seed=seed, details=details)  # fmt: skip
    return _dist.from_t(float(r["loc"]) * unit, float(r["scale"]) * unit, float(r["df"]), log=False,
                        method="panel EB drift (level)", target=target, comparator=comparator,
                        tolerance=tolerance, baseline_point=float(r["last_value"]), seed=seed,
                        details=details)  # fmt: skip


# --------------------------------------------------------------------------- peers of a district

DISTRICT_SERIES = "本区"
# Public peers of a district indicator: (source, table or series id). R&D intensity borrows from
# the 31 provinces and 全国 (the yearbook panel the model was tuned and scored on); high-tech
# enterprise counts from the national and Hunan count of high-tech industry enterprises.
PUBLIC_PEERS = {
    "rd_intensity": ("panel", "rd-intensity-by-region"),
    "hitech_enterprises": ("series", "hitech_enterprises"),
}


def district_peers(indicator: str, *, public: bool = True,
                   peers_path: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Peer series (``series``, ``year``, ``value``) of a district ``indicator``: the public
    yearbook series named in PUBLIC_PEERS (when ``public``) and the user's own peers from
    ``data/raw/public/peers.csv`` (``data.public.load_peers``). Empty when there are none."""
    from ..data.public import load_annual_panels, load_peers, load_public_series

    frames = [load_peers(indicator, peers_path)]
    kind, name = PUBLIC_PEERS.get(indicator, (None, None))
    if public and kind == "panel":
        frames.append(load_annual_panels().get(name, frames[0].iloc[0:0]))
    elif public and kind == "series":
        s = load_public_series()
        s = s[s["series"] == name]
        frames.append(pd.DataFrame({"series": s["region"], "year": s["year"], "value": s["value"]}))
    frames = [f[["series", "year", "value"]] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["series", "year", "value"])
    # The user's own rows come first and win over a public series of the same name.
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["series", "year"], keep="first")
    if public and kind == "panel":
        out.attrs["panel_table"] = name  # annual_with_peers takes that table's interval scale
    return out


def annual_with_peers(series: pd.Series, peers: pd.DataFrame | None, horizon: int = 1,
                      target: float | None = None, *, comparator: str = ">=",
                      tolerance: float = 0.0, seed: int | None = None) -> ForecastResult:  # fmt: skip
    """The district's annual ``series`` (indexed by year) forecast ``horizon`` years past its
    last year by ``annual_panel`` among ``peers`` (``series``, ``year``, ``value``); the lone
    series model ``annual`` when there are no peers. ``details["peers"]`` counts them. Peers
    from a yearbook panel (``peers.attrs["panel_table"]``, set by ``district_peers``) get that
    table's interval scale (``interval_scale_for``)."""
    from .annual import annual

    s = pd.Series(series, dtype=float).dropna()
    if peers is None or peers.empty or s.empty:
        return annual(series, horizon=horizon, target=target, comparator=comparator,
                      tolerance=tolerance, seed=seed)  # fmt: skip
    own = pd.DataFrame(
        {"series": DISTRICT_SERIES, "year": s.index.astype(int), "value": s.to_numpy()}
    )
    scale = interval_scale_for(peers.attrs.get("panel_table"))
    panel = pd.concat([peers[peers["series"] != DISTRICT_SERIES], own], ignore_index=True)
    return annual_panel_result(panel, DISTRICT_SERIES, horizon, target, comparator=comparator,
                               tolerance=tolerance, seed=seed, interval_scale=scale)  # fmt: skip


def resolve_peers(indicator: str, peers: pd.DataFrame | str | None) -> pd.DataFrame | None:
    """A model's ``peers`` argument: "default" = ``district_peers(indicator)`` (public series and
    the user's peers file), None = no peers (the lone-series model), or a frame as given."""
    if isinstance(peers, str):
        if peers != "default":
            raise ValueError(f"peers must be 'default', None or a frame, got {peers!r}")
        return district_peers(indicator)
    return peers
