"""The regions the *China Statistical Yearbook on Science and Technology* prints: the 31
provincial-level regions and five aggregates, with the yearbook's English names."""

from __future__ import annotations

# The 31 provincial-level regions of mainland China in the yearbook's order, with the
# yearbook's English names, and the five aggregates the yearbook prints beside them.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京", "Beijing"),
    ("天津", "Tianjin"),
    ("河北", "Hebei"),
    ("山西", "Shanxi"),
    ("内蒙古", "Inner Mongolia"),
    ("辽宁", "Liaoning"),
    ("吉林", "Jilin"),
    ("黑龙江", "Heilongjiang"),
    ("上海", "Shanghai"),
    ("江苏", "Jiangsu"),
    ("浙江", "Zhejiang"),
    ("安徽", "Anhui"),
    ("福建", "Fujian"),
    ("江西", "Jiangxi"),
    ("山东", "Shandong"),
    ("河南", "Henan"),
    ("湖北", "Hubei"),
    ("湖南", "Hunan"),
    ("广东", "Guangdong"),
    ("广西", "Guangxi"),
    ("海南", "Hainan"),
    ("重庆", "Chongqing"),
    ("四川", "Sichuan"),
    ("贵州", "Guizhou"),
    ("云南", "Yunnan"),
    ("西藏", "Tibet"),
    ("陕西", "Shaanxi"),
    ("甘肃", "Gansu"),
    ("青海", "Qinghai"),
    ("宁夏", "Ningxia"),
    ("新疆", "Xinjiang"),
)
AGGREGATE_REGIONS: tuple[tuple[str, str], ...] = (
    ("全国", "National Total"),
    ("东部地区", "Eastern Region"),
    ("中部地区", "Middle Region"),
    ("西部地区", "Western Region"),
    ("东北地区", "Northeast Region"),
)
_REGION_EN = dict(AGGREGATE_REGIONS + PROVINCES)
_AGGREGATE_NAMES = frozenset(zh for zh, _ in AGGREGATE_REGIONS)
_KNOWN_REGIONS = frozenset(_REGION_EN)
# Order used to sort tidy output: aggregates, provinces, then anything else (港澳台, 国外...).
REGION_ORDER: dict[str, int] = {zh: i for i, zh in enumerate(_REGION_EN)}
