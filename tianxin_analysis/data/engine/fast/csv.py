"""The fast engine's CSV writer: byte for byte ``neutralize_formulas(df).to_csv(...)`` with a
UTF-8 BOM (the reference engine's writer), rendered by Arrow kernels; Arrow's own CSV writer
when no field needs quoting."""

from __future__ import annotations

import csv
import io as _stdio
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ...._fs import (
    arrow_text,
    atomic_path,
    atomic_write_text,
    neutralize_formula_array,
    neutralize_formula_text,
    neutralize_formulas,
)


def _write_csv(df: pd.DataFrame, target: Path) -> None:
    """``neutralize_formulas(df).to_csv(...)`` with a UTF-8 BOM, written atomically."""
    rendered = _csv_fields(df)
    if rendered is None:
        text = neutralize_formulas(df).to_csv(
            index=False, lineterminator="\n", date_format="%Y-%m-%d"
        )
        atomic_write_text(target, "\ufeff" + text, encoding="utf-8")
        return
    fields, structural = rendered
    header = ",".join(_csv_quote_py(str(neutralize_formula_text(c))) for c in df.columns) + "\n"
    head = ("\ufeff" + header).encode("utf-8")
    if not structural:
        # No field holds a comma, quote or line break, so Arrow's own CSV writer, told never
        # to quote, writes exactly our text; it costs about half the joins below and writes
        # from C++ (it raises rather than write such a character unquoted).
        table = pa.table(fields, names=[f"c{i}" for i in range(len(fields))])
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        with atomic_path(target) as tmp, pa.OSFile(str(tmp), "wb") as sink:
            sink.write(head)
            pa_csv.write_csv(table, sink, write_options=options)
        return
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(head)
        comma = pa.scalar(",", pa.large_string())
        newline = pa.scalar("\n", pa.large_string())
        for start in range(0, len(df), _CSV_CHUNK_ROWS):  # bounded memory per chunk
            part = [f.slice(start, _CSV_CHUNK_ROWS) for f in fields]
            lines = pc.binary_join_element_wise(*part, comma)
            text = pc.binary_join(pa.LargeListArray.from_arrays([0, len(lines)], lines), newline)
            fh.write(text[0].as_buffer())
            fh.write(b"\n")


def _csv_special_chars() -> str:
    """What ``DataFrame.to_csv`` (the standard csv.writer, QUOTE_MINIMAL) quotes: the
    delimiter, the quote character, "\\n"; and "\\r" only in Python versions that quote it
    (asked of csv.writer itself)."""
    buf = _stdio.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["\r", "x"])
    return '[,"\\n\\r]' if buf.getvalue().startswith('"') else '[,"\\n]'


_CSV_SPECIAL = _csv_special_chars()
_CSV_STRUCTURAL = (b",", b'"', b"\n", b"\r")
_CSV_SPECIAL_BYTES = frozenset(c for c in _CSV_STRUCTURAL if re.fullmatch(_CSV_SPECIAL, c.decode()))
_EMPTY = pa.scalar("", pa.large_string())
_CSV_CHUNK_ROWS = 1 << 17
_SCAN_BLOCK = 1 << 20
_INT_LABELS = 4096  # integer columns spanning fewer values are rendered by a lookup


def _csv_quote_py(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if re.search(_CSV_SPECIAL, text) else text


def _csv_structural_bytes(arr: pa.Array) -> frozenset[bytes]:
    """Which of the CSV's structural characters (comma, quote, "\\n", "\\r") occur in
    ``arr`` (large_string).

    Hand-written: one memchr-speed ``in`` per character over the column's whole data buffer
    costs a few ms where a regex per cell costs ~60-120 ms, and most columns hold none. (The
    characters are ASCII, so a byte match is a character match in UTF-8.)
    """
    if not len(arr):
        return frozenset()
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64, count=len(arr) + 1, offset=arr.offset * 8)
    lo, hi = int(offsets[0]), int(offsets[-1])
    if hi == lo:
        return frozenset()
    data = np.frombuffer(data_buf, dtype=np.uint8)[lo:hi]
    found: set[bytes] = set()
    # 1 MB at a time: a copy of the whole column (tens of MB, fresh pages each time) cost
    # more than the scan; small blocks reuse the same memory, and the scan stops early
    # once every character has been seen.
    for start in range(0, len(data), _SCAN_BLOCK):
        block = data[start : start + _SCAN_BLOCK].tobytes()
        found.update(c for c in _CSV_STRUCTURAL if c not in found and c in block)
        if len(found) == len(_CSV_STRUCTURAL):
            break
    return frozenset(found)


def _csv_fields(df: pd.DataFrame) -> tuple[list[pa.Array], bool] | None:
    """Every column of ``neutralize_formulas(df)`` as the text
    ``to_csv(index=False, date_format="%Y-%m-%d")`` writes for it, quoted as it quotes, as
    Arrow strings, and whether any field holds a comma, quote or line break; None when a
    column's rendering is not one of the dtypes reproduced here (the caller then uses
    ``to_csv``).

    Hand-written because ``pyarrow.csv.write_csv`` quotes every string and formats dates
    and floats its own way, while the processed CSV must stay byte-identical; rendering in
    Arrow avoids ``to_csv``'s Python object per cell (several seconds for 10^6 rows).
    """
    if df.shape[1] < 2:  # csv.writer writes a lone empty field as "": not worth the case
        return None
    out = []
    structural = False
    for _, s in df.items():
        dtype = s.dtype
        plain = isinstance(dtype, np.dtype)  # (np.dtype(None) is float64: compare only these)
        arr = text = None
        if pd.api.types.is_datetime64_dtype(dtype):
            # strftime once per distinct date (a registry holds a few thousand), then take
            codes, uniques = pd.factorize(s, use_na_sentinel=True)
            labels = pd.Series(uniques).dt.strftime("%Y-%m-%d").tolist()
            codes = np.where(codes < 0, len(labels), codes)
            arr = pa.array([*labels, ""], type=pa.large_string()).take(pa.array(codes))
        elif plain and dtype == np.dtype(bool):
            text = pd.Series(np.where(s.to_numpy(), "True", "False"), dtype="str")
        elif plain and dtype == np.dtype(np.int64):
            values = s.to_numpy()
            lo, hi = (int(values.min()), int(values.max())) if len(values) else (0, -1)
            if len(values) > _INT_LABELS and hi - lo < _INT_LABELS:
                # years and the like: str() once per value in the range, then one take
                # (casting 10^6 integers to text costs ~30 ms a column)
                labels = pa.array([str(v) for v in range(lo, hi + 1)], pa.large_string())
                arr = labels.take(pa.array(values - lo))
            else:
                text = s.astype("str")
        elif plain and dtype == np.dtype(np.float64):
            values = s.to_numpy()
            text = pd.Series(np.where(np.isnan(values), "", values.astype(str)), dtype="str")
        elif isinstance(dtype, pd.Int64Dtype):
            text = s.astype(object).where(s.notna(), "").astype("str")
        elif isinstance(dtype, pd.StringDtype):
            arr = arrow_text(s.array)
            if arr.null_count:
                arr = pc.fill_null(arr, _EMPTY)
            arr = neutralize_formula_array(arr)
        elif plain and dtype == np.dtype(object) and _all_text(s):
            text = s.astype("str").fillna("")
            arr = neutralize_formula_array(arrow_text(text.array))
        else:
            return None
        if arr is None:
            arr = arrow_text(text.array) if len(text) else pa.array([], pa.large_string())
        if arr.null_count:
            return None
        present = _csv_structural_bytes(arr)
        structural = structural or bool(present)
        if present & _CSV_SPECIAL_BYTES:
            special = pc.match_substring_regex(arr, _CSV_SPECIAL)
            quote = pa.scalar('"', pa.large_string())
            doubled = pc.replace_substring(arr, '"', '""')
            quoted = pc.binary_join_element_wise(quote, doubled, quote, _EMPTY)
            arr = pc.if_else(special, quoted, arr)
        out.append(arr)
    return out, structural


def _all_text(s: pd.Series) -> bool:
    return pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")
