"""Small YAML files (targets, clause and synonym files) read by PyYAML's safe loader
behind bounds on size, aliases and alias expansion."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tianxin_analysis.errors import InputFileError

from .limits import ReadLimits, _limits


class _CountingLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python objects) counting the ``*alias`` references it meets."""

    aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
        return super().compose_node(parent, index)


def _expanded_nodes(root: yaml.Node, cap: int) -> int:
    """How many nodes ``root`` stands for once every alias is expanded (capped at ``cap + 1``;
    a node that contains itself counts as ``cap + 1``). Linear in the distinct nodes."""
    memo: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        children = _children(node)
        if done:
            active.discard(id(node))
            memo[id(node)] = min(1 + sum(memo[id(c)] for c in children), cap + 1)
            continue
        if id(node) in memo:
            continue
        if id(node) in active:
            return cap + 1  # recursive: infinite once expanded
        active.add(id(node))
        stack.append((node, True))
        for c in children:
            if id(c) in active:
                return cap + 1
            if id(c) not in memo:
                stack.append((c, False))
    return memo[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    """The nodes a sequence or mapping node holds (keys and values); none for a scalar."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_yaml(path: str | os.PathLike[str], *, limits: ReadLimits | None = None) -> object:
    """The data of a small YAML file (a targets file), refusing what a hostile file could do.

    PyYAML's safe loader (plain data only, no Python objects) behind three bounds of
    ``limits``: the file's size (``max_yaml_bytes``), the ``*alias`` references it uses
    (``max_yaml_aliases``), and the nodes its aliases expand to (at most 10 per byte of the
    file, at least 10,000): an alias bomb of nine nested lists of nine aliases stands for
    10^9 strings from a 1 kB file, within any plain alias count of a hundred. Raises :class:`InputFileError` for a
    bound and lets ``yaml.YAMLError`` / ``UnicodeDecodeError`` through for the caller's message.
    """
    lim = _limits(limits)
    p = Path(path)
    name = str(p)
    size = p.stat().st_size
    if size > lim.max_yaml_bytes:
        raise lim.refuse(name, "YAML 文件过大", "YAML file too large", size, "max_yaml_bytes")
    with open(p, "rb") as fh:
        text = fh.read(lim.max_yaml_bytes + 1).decode("utf-8")
    loader = _CountingLoader(text)
    try:
        node = loader.get_single_node()
        if loader.aliases > lim.max_yaml_aliases:
            raise lim.refuse(
                name, "YAML 引用 (*别名) 过多", "YAML uses too many *aliases", loader.aliases,
                "max_yaml_aliases",
            )  # fmt: skip
        if node is None:
            return None
        cap = max(10_000, 10 * len(text))
        if loader.aliases and _expanded_nodes(node, cap) > cap:
            raise InputFileError(
                "YAML 别名展开后过大 (别名炸弹)", "YAML aliases expand too far (alias bomb)",
                file=name, found=f"> {cap:,} 个节点 nodes",
                expected="不用别名，或少量别名 (plain YAML, or a few aliases)",
            )  # fmt: skip
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_yaml_document(
    path: str | os.PathLike[str], error: type, what: tuple[str, str], expected: str
) -> object:
    """:func:`read_yaml` of ``path`` with every problem raised as ``error`` naming the file.

    ``error`` is one of the located errors (``errors.TargetsFileError``, ``SchemaError``);
    ``what`` names the file in the message, e.g. ``("目标文件", "targets file")``;
    ``expected`` says what the file should be when it is missing.
    """
    import yaml

    name = str(path)
    if not Path(path).is_file():
        raise error(f"找不到{what[0]}", f"{what[1]} not found", file=name, expected=expected)
    try:
        return read_yaml(path)
    except InputFileError as exc:
        raise error(exc.zh, exc.en, file=name, found=exc.found,
                    expected=exc.expected) from None  # fmt: skip
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise error(
            f"{what[0]}不是有效的 YAML", f"{what[1]} is not valid YAML", file=name,
            found=str(exc).splitlines()[0], expected="UTF-8 YAML",
        ) from None  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Header helpers for the data layer
