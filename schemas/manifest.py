"""A batch manifest row: one cultural object as a museum describes it, ready for ingestion.

Manifests are CSV or JSON Lines (UTF-8, BOM tolerated), with the column names of
`schemas.columns` in Chinese or English. The `ManifestRow` model is the single definition of
the fields: the JSON Schema museums validate against (`schemas/json/manifest-row.schema.json`)
and the index mapping are generated from it. `json_schema_extra={"es": …}` tells the mapping
how a text field is analysed (`text_zh`, `text_en`, `text`); other strings are keywords.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from schemas.access import AccessPolicy, default_policy
from schemas.licences import Licence, LicenceFamily, parse_licence

# Index hints read by indexing/mappings.py (they also appear in the JSON Schema as "es").
TEXT_ZH: dict[str, Any] = {"es": "text_zh"}
TEXT_EN: dict[str, Any] = {"es": "text_en"}
TEXT: dict[str, Any] = {"es": "text"}

MEDIA_SEPARATOR = ";"
LABEL_SEPARATOR = "|"


def safe_relative_path(path: str) -> str:
    """A file path inside the batch folder, normalised with '/'; ValueError for '..' or absolute paths."""
    path = path.strip().replace("\\", "/")
    if not path:
        raise ValueError("empty media path")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise ValueError(f"absolute path {path!r} not allowed: paths are relative to the batch folder")
    normal = posixpath.normpath(path)
    if normal == ".." or normal.startswith("../") or "/../" in f"/{path}/":
        raise ValueError(f"path {path!r} leaves the batch folder ('..' is not allowed)")
    return normal


ACCESS_ALIASES = {"公开": "public", "开放": "public", "地区": "region", "区域": "region", "本地区": "region",
                  "本馆": "institution", "机构": "institution", "馆内": "institution", "内部": "institution",
                  "部门": "department", "本部门": "department", "授权": "granted", "仅授权": "granted",
                  "禁用期": "embargoed", "保密期": "embargoed", "延期公开": "embargoed", "granted-only": "granted"}


def parse_access(text: str) -> AccessPolicy:
    key = text.strip().casefold()
    try:
        return AccessPolicy(ACCESS_ALIASES.get(key, key))
    except ValueError:
        raise ValueError(f"unknown access policy {text!r}: use public, region, institution, department, granted "
                         "or embargoed (公开, 地区, 本馆, 部门, 授权, 延期公开)") from None


class MediaRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Path of the file relative to the batch folder, with '/' separators.")
    label: str | None = Field(None, description="View label, e.g. 'front', '正面', 'inscription'.")

    @field_validator("path")
    @classmethod
    def _relative_and_inside(cls, path: str) -> str:
        return safe_relative_path(path)


class ManifestRow(BaseModel):
    """One object of a batch. At least one title; a licence always."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    object_id: str = Field(min_length=1, max_length=200, description="The institution's own id (文物编号).")
    title_zh: str | None = Field(None, json_schema_extra=TEXT_ZH, description="Title in Chinese (名称).")
    title_en: str | None = Field(None, json_schema_extra=TEXT_EN, description="Title in English.")
    original_title: str | None = Field(None, json_schema_extra=TEXT_ZH, description="Original or former name (原名).")
    description_zh: str | None = Field(None, json_schema_extra=TEXT_ZH, description="Description in Chinese.")
    description_en: str | None = Field(None, json_schema_extra=TEXT_EN, description="Description in English.")
    category: str | None = Field(None, description="Category as the institution writes it (类别).")
    period: str | None = Field(None, json_schema_extra=TEXT, description="Period text (年代): 清乾隆, 'Tang dynasty'.")
    date: str | None = Field(None, json_schema_extra=TEXT, description="Exact date (具体年代): '1736–1795', 'c. 1700'.")
    dimensions: str | None = Field(None, json_schema_extra=TEXT, description="Dimensions as written (尺寸).")
    materials: list[str] = Field(default_factory=list, description="Materials (质地); cells split on ; , 、 /")
    creator: str | None = Field(None, json_schema_extra=TEXT, description="Maker, artist or author.")
    provenance: str | None = Field(None, json_schema_extra=TEXT, description="Find spot or provenance (出土地点).")
    acquisition: str | None = Field(None, json_schema_extra=TEXT, description="Acquisition, credit line (来源).")
    department: str | None = Field(None, description="Holding department.")
    grade: str | None = Field(None, description="Relic grade (文物级别): 一级, 二级, 三级, 一般, 未定级.")
    quantity: str | None = Field(None, description="Count (实际数量).")
    condition: str | None = Field(None, description="Condition (完残程度).")
    licence: Licence = Field(description="A RightsStatements.org or Creative Commons URI, a short code, or "
                                         "restricted:<policy>; parsed into the licence record.")
    access: AccessPolicy = Field(
        None, validate_default=True,  # None: resolved from the licence below
        description="Who may see the object: public, region, institution, department, granted or embargoed "
                    "(with embargo_until). Empty: the policy a restricted licence names, otherwise public.")
    embargo_until: dt.date | None = Field(None, validate_default=True, description="For access 'embargoed': the "
                                       "date (YYYY-MM-DD) from which the object is public; filling it alone "
                                       "means embargoed.")
    media: list[MediaRef] = Field(default_factory=list, description="Media files: 'path|label; path|label' "
                                                                    "in CSV, a list in JSON Lines.")
    extra: dict[str, str] = Field(default_factory=dict, description="Columns Wenyuan does not know, kept as is.")

    @field_validator("licence", mode="before")
    @classmethod
    def _parse_licence(cls, value: object) -> object:
        return parse_licence(value) if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _embargo_date_alone_means_embargoed(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("embargo_until") and not data.get("access"):
            return data | {"access": AccessPolicy.EMBARGOED.value}
        return data

    @field_validator("access", mode="before")
    @classmethod
    def _parse_access(cls, value: object, info: ValidationInfo) -> object:
        licence = info.data.get("licence")
        if value is None or (isinstance(value, str) and not value.strip()):
            return default_policy(licence) if isinstance(licence, Licence) else AccessPolicy.PUBLIC
        policy = parse_access(value) if isinstance(value, str) else value
        if (isinstance(licence, Licence) and licence.family is LicenceFamily.RESTRICTED
                and policy is AccessPolicy.PUBLIC):
            raise ValueError(f"licence {licence.code} is restricted, so the object cannot be public: choose "
                             "another access policy or a public licence")
        return policy

    @field_validator("embargo_until", mode="after")
    @classmethod
    def _embargo_goes_with_embargoed(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        access = info.data.get("access")
        if access is AccessPolicy.EMBARGOED and value is None:
            raise ValueError("access 'embargoed' needs embargo_until: the date (YYYY-MM-DD) it becomes public")
        if value is not None and access is not None and access is not AccessPolicy.EMBARGOED:
            raise ValueError(f"embargo_until is only for access 'embargoed' (this row says {access})")
        return value

    @field_validator("materials", mode="before")
    @classmethod
    def _split_materials(cls, value: object) -> object:
        if isinstance(value, str):
            return [m.strip() for m in re.split(r"[;,，；、/]", value) if m.strip()]
        return value

    @field_validator("media", mode="before")
    @classmethod
    def _split_media(cls, value: object) -> object:
        if isinstance(value, str):
            refs = []
            for part in value.split(MEDIA_SEPARATOR):
                if part.strip():
                    path, _, label = part.partition(LABEL_SEPARATOR)
                    refs.append({"path": path.strip(), "label": label.strip() or None})
            return refs
        if isinstance(value, list):
            return [{"path": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _needs_a_title(self) -> ManifestRow:
        if not (self.title_zh or self.title_en):
            raise ValueError("a title is required: fill title_zh (名称) or title_en")
        paths = [m.path for m in self.media]
        if len(paths) != len(set(paths)):
            raise ValueError("the same media file is listed twice in this row")
        return self
