"""Column names a museum's catalogue export may use, Chinese or English → the manifest's fields.

Built on the survey's catalogue indicators (著录指标, DOMAIN.md) and common English exports
(Tate, museum APIs). Matching ignores case, spaces, underscores and hyphens. A column that
matches nothing is kept as extra metadata under its own name, never dropped.
"""

from __future__ import annotations

import re

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "object_id": ("object_id", "id", "object id", "object number", "accession number", "accession_no", "acno",
                  "inventory number", "文物编号", "总登记号", "藏品编号", "编号", "登记号"),
    "title_zh": ("title_zh", "名称", "文物名称", "藏品名称", "中文名称", "中文名", "题名"),
    "title_en": ("title_en", "title", "name", "english title", "英文名称", "英文名"),
    "original_title": ("original_title", "原名"),
    "description_zh": ("description_zh", "描述", "简介", "说明", "中文描述", "文物描述"),
    "description_en": ("description_en", "description", "english description", "英文描述", "英文简介"),
    "category": ("category", "classification", "object type", "object_type", "类别", "文物类别", "藏品类别"),
    "period": ("period", "dynasty", "era", "年代", "时代", "朝代"),
    "date": ("date", "date_text", "datetext", "具体年代", "日期"),
    "dimensions": ("dimensions", "size", "measurements", "尺寸", "具体尺寸", "尺寸(cm)"),
    "materials": ("materials", "material", "medium", "质地", "材质"),
    "creator": ("creator", "artist", "all_artists", "maker", "author", "作者", "著者", "创作者"),
    "provenance": ("provenance", "find_spot", "findspot", "find spot", "出土地点", "出土地", "流传经历"),
    "acquisition": ("acquisition", "credit_line", "creditline", "credit line", "来源", "入藏方式"),
    "department": ("department", "部门", "保管部门", "收藏部门"),
    "grade": ("grade", "文物级别", "级别"),
    "quantity": ("quantity", "count", "实际数量", "数量"),
    "condition": ("condition", "完残程度", "保存状态"),
    "licence": ("licence", "license", "rights", "rights_uri", "许可", "许可协议", "授权", "版权"),
    "access": ("access", "access_policy", "access policy", "visibility", "开放范围", "访问权限", "公开范围",
               "开放级别", "访问策略"),
    "embargo_until": ("embargo_until", "embargo", "embargo date", "解禁日期", "开放日期", "公开日期"),
    "media": ("media", "files", "file", "images", "image", "图像", "图片", "文件", "影像"),
}

EMPTY_CELLS = frozenset({"", "<空>", "无", "/", "-", "—", "n/a", "null", "none"})


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-（）()]+", "", name.strip().lstrip("\ufeff")).casefold()


_LOOKUP = {_norm(alias): field for field, aliases in COLUMN_ALIASES.items() for alias in aliases}


def field_for(column: str) -> str | None:
    """The manifest field a column header stands for, or None (kept as extra metadata)."""
    return _LOOKUP.get(_norm(column))


def is_empty(cell: str | None) -> bool:
    return cell is None or cell.strip().casefold() in EMPTY_CELLS
