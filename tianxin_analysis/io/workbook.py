"""Workbooks (xlsx, xlsb, legacy xls) read by python-calamine into :class:`RawSheet`
grids, after decryption with msoffcrypto-tool when Excel encrypted them."""

from __future__ import annotations

import io as _stdio

import msoffcrypto
import msoffcrypto.exceptions
import python_calamine

from tianxin_analysis.errors import InputFileError

from .grid import RawSheet, _grid, _is_link_only
from .limits import ReadLimits
from .xlsx_bounds import _check_xlsx_bounds
from .xlsx_styles import _shown_as_excel_shows

# Excel encrypts "read-only recommended" workbooks with this fixed, publicly documented key.
DEFAULT_XLS_PASSWORD = "VelvetSweatshop"


def _decrypt(data: bytes, name: str, password: str | None, fmt: str) -> bytes:
    """The decrypted workbook bytes of an encrypted xls/xlsx, tried with ``password`` or the
    default one; an unknown password or scheme is an ``InputFileError``."""
    office = msoffcrypto.OfficeFile(_stdio.BytesIO(data))
    tried = [password] if password is not None else [DEFAULT_XLS_PASSWORD]
    for key in tried:
        try:
            if type(office).__name__ == "OOXMLFile":
                office.load_key(password=key, verify_password=True)
            else:  # the xls97 loader checks the key itself and takes no verify flag
                office.load_key(password=key)
            out = _stdio.BytesIO()
            office.decrypt(out)
            return out.getvalue()
        except (msoffcrypto.exceptions.InvalidKeyError, msoffcrypto.exceptions.DecryptionError):
            continue
        except Exception as exc:  # unsupported encryption schemes raise assorted errors
            raise InputFileError(
                "加密文件无法解密",
                "encrypted file cannot be decrypted",
                file=name,
                found=f"{fmt}: {type(exc).__name__}: {exc}",
            ) from exc
    raise InputFileError(
        "文件受密码保护，密码未知或不正确",
        "file is password protected; password unknown or wrong",
        file=name,
        found=fmt,
        expected="未加密的文件，或通过 password= 提供正确密码 (unencrypted file, or pass password=)",
    )


def _read_workbook(data: bytes, name: str, limits: ReadLimits, fmt: str = "xlsx") -> list[RawSheet]:
    """Every visible sheet of an xlsx/xls workbook as a ``RawSheet`` (Excel row numbers kept,
    hidden sheets and a CNKI link sheet skipped); an unreadable workbook is an
    ``InputFileError``."""
    if fmt == "xlsx":
        _check_xlsx_bounds(data, name, limits)
    sheets = _calamine_sheets(data, name)
    if fmt == "xlsx":
        sheets = _shown_as_excel_shows(data, sheets)
    if all(not s.grid.notna().to_numpy().any() for s in sheets):
        # as empty as a 0-byte file: the analyst must hear about it, not find it skipped
        raise InputFileError(
            "文件为空 (工作簿中没有任何内容)",
            "file is empty (the workbook holds no cell)",
            file=name,
            expected="至少一行表头的表格 (a table with a header row)",
        )
    return sheets


def _calamine_sheets(data: bytes, name: str) -> list[RawSheet]:
    """Every sheet python-calamine reads from the workbook ``data`` (hidden ones marked, a
    CNKI link sheet skipped); an unreadable workbook is an ``InputFileError``."""
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(_stdio.BytesIO(data))
        visible = python_calamine.SheetVisibleEnum.Visible
        hidden = {m.name for m in wb.sheets_metadata if m.visible != visible}
        sheets = []
        for sheet_name in wb.sheet_names:
            # skip_empty_area=False keeps leading blank rows so row numbers match Excel.
            rows = wb.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            if sheet_name.strip().upper() == "CNKI" and _is_link_only(rows):
                continue
            sheets.append(
                RawSheet(file=name, sheet=sheet_name, grid=_grid(rows),
                         hidden=sheet_name in hidden)
            )  # fmt: skip
    except InputFileError:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise InputFileError(
            "工作簿无法读取 (文件损坏?)",
            "workbook cannot be read (damaged file?)",
            file=name,
            found=f"{type(exc).__name__}: {exc}",
        ) from exc
    return sheets
