"""Header synonyms as data: ``data/raw/header_synonyms.yaml`` (kind -> canonical column ->
more header spellings), read at clean time and merged with the built-in synonyms of
``data/kinds/<kind>.py``, so a real export with another spelling needs a line of YAML, not a code change.

The file is optional (absent, empty or only comments: no extra synonyms). Every problem is a
:class:`~tianxin_analysis.errors.SchemaError` naming the file, the kind and the column.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .. import clean
from ..errors import SchemaError
from ..io import read_yaml_document
from .declaration import Schema
from .kinds import SCHEMAS

SYNONYMS_FILE = "header_synonyms.yaml"

ExtraSynonyms = dict[str, dict[str, tuple[str, ...]]]


def load_header_synonyms(path: str | os.PathLike[str]) -> ExtraSynonyms:
    """The extra synonyms in ``path`` as ``{kind: {column: (spelling, ...)}}``.

    A column takes one spelling or a list. Kinds and columns must exist (the message lists
    the valid ones); spellings must be non-empty text and must not name another column of
    the kind (built-in or extra). A missing file gives ``{}``.
    """
    name = str(path)
    if not Path(path).is_file():
        return {}
    doc = read_yaml_document(path, SchemaError, ("表头同义词文件", "header synonyms file"), SYNONYMS_FILE)
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        raise SchemaError(
            "表头同义词文件应为映射：数据类型 → 字段 → 同义表头",
            "header synonyms file must map kind -> column -> spellings",
            file=name, found=type(doc).__name__,
            expected="tech_contracts:\\n  contracts: [登记技术合同]",
        )  # fmt: skip
    extra: ExtraSynonyms = {}
    for kind, columns in doc.items():
        if kind not in SCHEMAS:
            raise SchemaError(
                "未知的数据类型", "unknown kind", file=name, found=kind,
                expected=f"之一 one of: {', '.join(SCHEMAS)}",
            )  # fmt: skip
        fields = [f.name for f in SCHEMAS[kind].fields]
        if columns is None:
            continue
        if not isinstance(columns, Mapping):
            raise SchemaError(
                f"{kind} 下应为 字段: 同义表头", f"{kind} must map column -> spellings",
                file=name, column=str(kind), found=columns, expected=f"字段 columns: {', '.join(fields)}",
            )  # fmt: skip
        extra[kind] = {}
        for column, spellings in columns.items():
            if column not in fields:
                raise SchemaError(
                    f"{kind} 没有该字段", f"{kind} has no such column", file=name,
                    column=f"{kind}.{column}", found=column, expected=f"之一 one of: {', '.join(fields)}",
                )  # fmt: skip
            words = [spellings] if isinstance(spellings, str) else spellings
            if (
                not isinstance(words, list)
                or not words
                or not all(isinstance(w, str) and clean.normalize_header(w) for w in words)
            ):
                raise SchemaError(
                    "同义表头应为非空文字或文字列表", "spellings must be non-empty text or a list of it",
                    file=name, column=f"{kind}.{column}", found=spellings,
                    expected="例如 e.g. [登记技术合同, 技术合同登记项数]",
                )  # fmt: skip
            extra[kind][str(column)] = tuple(w.strip() for w in words)
        _check_unambiguous(SCHEMAS[kind].with_synonyms(extra[kind]), name)
    return extra


def _check_unambiguous(schema: Schema, file: str) -> None:
    try:
        clean.header_lookup({f.name: f.synonyms for f in schema.fields})
    except ValueError as exc:  # a spelling that names two columns
        raise SchemaError(
            "同义表头对应两个字段", "a header spelling names two columns", file=file,
            column=schema.kind, found=str(exc), expected="每个写法只对应一个字段 one column per spelling",
        ) from None  # fmt: skip


def schemas_with_synonyms(raw_dir: str | os.PathLike[str]) -> dict[str, Schema]:
    """Every kind's schema with the extra synonyms of ``raw_dir/header_synonyms.yaml``; the
    file's path is named in header error messages whether or not it exists yet."""
    path = Path(raw_dir) / SYNONYMS_FILE
    extra = load_header_synonyms(path)
    return {k: s.with_synonyms(extra.get(k, {}), str(path)) for k, s in SCHEMAS.items()}
