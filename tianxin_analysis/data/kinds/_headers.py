"""Header spellings several kinds share (an enterprise's name and credit code)."""

ENTERPRISE_NAME_HEADERS = ("企业名称", "企业全称", "单位名称", "纳税人名称", "企业(单位)名称")
USCC_HEADERS = ("统一社会信用代码", "信用代码", "社会信用代码", "统一代码", "纳税人识别号")
