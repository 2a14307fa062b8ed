"""The server's words in Chinese and English: one catalogue, and the language a request asks for.

Every text the API makes for people to read — problem titles, refusal reasons, the basis of an access
decision, who would be allowed, licence names — is a key here with its English and Chinese wording.
Code that makes such a text makes a `Message`: a `str` whose value is the English text (so logs, the
audit log and callers that ignore languages see what they always saw), which also remembers its key and
parameters, so the edge (services/gateway/errors.py, the access answers) can say it again in the
language of the request. A parameter may itself be a `Message` or a list of them (joined in the
language's way).

`negotiate` reads an `Accept-Language` header (RFC 9110 §12.5.4): the first of zh or en by weight,
English when neither is asked for. A problem's `type` URI never depends on the language; its title and
detail do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")
DEFAULT: Lang = "en"
SEPARATOR: dict[Lang, str] = {"en": "; ", "zh": "；"}

# key: (English, Chinese). Placeholders are str.format names.
TEXTS: dict[str, tuple[str, str]] = {
    # problem titles, by the last part of the problem's type URI
    "title.error": ("Error", "错误"),
    "title.not-found": ("Not found", "未找到"),
    "title.batch-not-found": ("Batch not found", "未找到该批次"),
    "title.asset-not-found": ("Asset not found", "未找到该藏品"),
    "title.image-not-found": ("Image not found", "未找到该图像"),
    "title.label-not-found": ("Label not in the taxonomy", "分类体系中没有该标签"),
    "title.entity-not-found": ("No such organisation, key or grant", "没有这个机构、密钥或授权"),
    "title.invalid-key": ("Invalid API key", "API 密钥无效"),
    "title.forbidden": ("Not allowed", "不允许"),
    "title.missing-scope": ("The API key lacks a scope this needs", "API 密钥缺少此操作所需的权限范围"),
    "title.tier-not-allowed": ("The licence and your grants do not allow this tier", "许可与您的授权不允许此级别"),
    "title.rate-limited": ("Too many requests", "请求过多"),
    "title.conflict": ("Conflict with the current state", "与当前状态冲突"),
    "title.invalid-request": ("Invalid request", "请求无效"),
    "title.bad-request": ("Bad request", "请求有误"),
    "title.bad-image-request": ("Not a IIIF Image API request this image can answer",
                                "此图像无法响应该 IIIF 图像 API 请求"),
    "title.payload-too-large": ("Payload too large", "内容过大"),
    "title.unsupported-media-type": ("Unsupported media type", "不支持的媒体类型"),
    "title.service-unavailable": ("A service Wenyuan depends on is unavailable", "文渊依赖的一项服务暂不可用"),
    "title.internal-error": ("Internal error", "内部错误"),
    # HTTP errors FastAPI raises itself (about:blank problems), by status
    "http.404": ("Not Found", "未找到"),
    "http.405": ("Method Not Allowed", "不允许此方法"),
    "http.406": ("Not Acceptable", "无法提供可接受的格式"),
    "http.413": ("Request Entity Too Large", "内容过大"),
    # tiers and audiences
    "tier.metadata": ("metadata", "元数据"),
    "tier.thumbnail": ("thumbnail", "缩略图"),
    "tier.preview": ("preview", "预览图"),
    "tier.original": ("original", "原图"),
    "audience.department": ("department", "本部门"),
    "audience.institution": ("institution", "本机构"),
    "audience.region": ("region", "本地区"),
    "audience.public": ("public", "公众"),
    # the basis of a decision (services/access/policy.decide)
    "basis.licence": ("licence {licence} (audience: {audience})", "许可 {licence}（受众：{audience}）"),
    "basis.grant": ("grant {grant}", "授权 {grant}"),
    "basis.invisible": ("invisible", "不可见"),
    # who would receive a tier (policy.would_allow)
    "allow.department": ("staff of its holding department ({department})", "其所属部门（{department}）的员工"),
    "allow.department-any": ("staff of its holding department", "其所属部门的员工"),
    "allow.institution": ("staff of the holding institution ({institution})", "收藏机构（{institution}）的员工"),
    "allow.region": ("institutions of its region ({region})", "其所在地区（{region}）的机构"),
    "allow.public": ("everyone", "所有人"),
    "allow.grant": ("a grant from {institution} of tier {tier} or higher", "{institution}给予的{tier}或更高级别的授权"),
    # deliveries (services/access/delivery.py)
    "delivery.refused": ("{label} ({code}) gives you the {allowed} tier of this asset ({basis}); the {requested} "
                         "is delivered to {who}.",
                         "{label}（{code}）只让您获得此藏品的{allowed}级别（{basis}）；{requested}只提供给：{who}。"),
    "delivery.metadata": ("metadata is the record itself (GET /v1/assets/{{id}}); media tiers are thumbnail, "
                          "preview and original",
                          "元数据就是记录本身（GET /v1/assets/{{id}}）；媒体级别有缩略图、预览图和原图"),
    "delivery.no-image": ("asset {asset} has {count} image(s); there is no image {image}",
                          "藏品 {asset} 有 {count} 张图像；没有第 {image} 张"),
    "delivery.no-file": ("asset {asset} has {count} media file(s); there is no file {n}",
                         "藏品 {asset} 有 {count} 个媒体文件；没有第 {n} 个"),
    "licence.name": ("{en}", "{zh}"),
    # keys and limits (services/access/keys.py, services/gateway/middleware.py)
    "key.malformed": ("the API key is malformed: send it as `Authorization: Bearer wy_….…`, exactly as issued",
                      "API 密钥格式不对：请按发放时的原样以 `Authorization: Bearer wy_….…` 发送"),
    "key.invalid": ("the API key is not valid: it is unknown, or has been revoked or has expired",
                    "API 密钥无效：它不存在，或已被吊销，或已过期"),
    "rate.key": ("key {key} may make {limit} requests a minute; try again in {s} s",
                 "密钥 {key} 每分钟最多可发出 {limit} 个请求；请在 {s} 秒后重试"),
    "rate.address": ("this address without a key may make {limit} requests a minute; try again in {s} s",
                     "此地址（未使用密钥）每分钟最多可发出 {limit} 个请求；请在 {s} 秒后重试"),
    # the gateway's own
    "asset.none": ("no asset {asset}", "没有藏品 {asset}"),
    "asset.unknown": ("no such asset", "没有这个藏品"),
    "internal.failed": ("the gateway failed to answer this request; it has been logged",
                        "网关未能回答此请求；已记录在日志中"),
    "internal.failed-id": ("the gateway failed to answer this request; it has been logged with request id {id}",
                           "网关未能回答此请求；已记录在日志中，请求编号 {id}"),
    "unavailable.elasticsearch": ("Elasticsearch cannot be reached", "无法连接 Elasticsearch"),
    "unavailable.elasticsearch-timeout": ("Elasticsearch did not answer in time", "Elasticsearch 未能及时响应"),
    "unavailable.s3": ("object storage (S3) cannot be reached", "无法连接对象存储（S3）"),
    "unavailable.airflow": ("Airflow cannot be reached", "无法连接 Airflow"),
    "unavailable.no-index": ("Elasticsearch has no such index: the search index is not set up yet",
                             "Elasticsearch 中没有该索引：检索索引尚未建立"),
    "unavailable.with": ("{service}: {error}", "{service}：{error}"),
    # request validation (pydantic's error types; others keep pydantic's English)
    "invalid.field": ("{field}: {reason}", "{field}：{reason}"),
    "invalid.missing": ("Field required", "缺少此字段"),
    "invalid.string_too_long": ("String should have at most {max_length} characters", "最多 {max_length} 个字符"),
    "invalid.string_too_short": ("String should have at least {min_length} characters", "至少 {min_length} 个字符"),
    "invalid.int_parsing": ("Input should be a valid integer, unable to parse string as an integer", "应为整数"),
    "invalid.greater_than_equal": ("Input should be greater than or equal to {ge}", "应大于或等于 {ge}"),
    "invalid.less_than_equal": ("Input should be less than or equal to {le}", "应小于或等于 {le}"),
    "invalid.enum": ("Input should be {expected}", "应为 {expected} 之一"),
    "invalid.literal_error": ("Input should be {expected}", "应为 {expected} 之一"),
}

# Licence names in Chinese (the English ones are schemas/licences.py's labels), by code.
_CC_ZH = {"BY": "署名", "BY-SA": "署名-相同方式共享", "BY-NC": "署名-非商业性使用",
          "BY-NC-SA": "署名-非商业性使用-相同方式共享", "BY-ND": "署名-禁止演绎",
          "BY-NC-ND": "署名-非商业性使用-禁止演绎"}
LICENCE_ZH: dict[str, str] = {
    "CC0": "CC0 1.0 通用公有领域贡献", "PDM": "公有领域标识 1.0", "Apache-2.0": "Apache 许可证 2.0",
    **{f"CC-{short}-4.0": f"知识共享 {name} 4.0 国际许可协议" for short, name in _CC_ZH.items()},
    "InC": "受版权保护", "InC-OW-EU": "受版权保护 - 欧盟孤儿作品", "InC-EDU": "受版权保护 - 允许教育使用",
    "InC-NC": "受版权保护 - 允许非商业性使用", "InC-RUU": "受版权保护 - 权利人无法找到或无法确定",
    "NoC-CR": "无版权 - 有合同限制", "NoC-NC": "无版权 - 仅限非商业性使用", "NoC-OKLR": "无版权 - 有其他已知法律限制",
    "NoC-US": "无版权 - 美国", "CNE": "版权未评估", "UND": "版权状态未确定", "NKC": "无已知版权",
    "restricted:institution": "受限（仅限收藏机构）", "restricted:department": "受限（仅限所属部门）",
    "restricted:granted": "受限（需经授权）", "restricted:embargoed": "受限（禁止公开期内）",
}


class Named(str):
    """The id of an institution, department (`of`: its institution) or region inside a text: the id itself, which
    the edge says by its name (a `Resolver`: services/access/names.resolver) where it knows one."""

    kind: str
    of: str | None

    def __new__(cls, kind: str, value: str, of: str | None = None) -> Named:
        self = super().__new__(cls, value)
        self.kind, self.of = kind, of
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (Named, (self.kind, str(self), self.of))


Resolver = Callable[[Named, Lang], "str | None"]


def text(key: str, lang: Lang = DEFAULT, /, **params: Any) -> str:
    """The text of `key` in `lang`, its parameters (Messages and lists of them too) said in `lang` as well."""
    return _say(key, lang, params, None)


def _say(key: str, lang: Lang, params: Mapping[str, Any], resolve: Resolver | None) -> str:
    en, zh = TEXTS[key]
    said = {name: render(value, lang, resolve) for name, value in params.items()}
    return (zh if lang == "zh" else en).format_map({k: SEPARATOR[lang].join(v) if isinstance(v, list) else v
                                                     for k, v in said.items()})


class Message(str):
    """A text of the catalogue: its English value, and its key and parameters to say it in another language."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Message:
        self = super().__new__(cls, text(key, DEFAULT, **params))
        self.key, self.params = key, params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.key, self.params))

    def say(self, lang: Lang, resolve: Resolver | None = None) -> str:
        return _say(self.key, lang, self.params, resolve)


def _rebuild(key: str, params: dict[str, Any]) -> Message:
    return Message(key, **params)


def render(value: Any, lang: Lang, resolve: Resolver | None = None) -> Any:
    """`value` with every Message in it (in lists and dicts too) said in `lang`, as plain JSON values; `resolve`
    names the ids (`Named`) in them."""
    if isinstance(value, Message):
        return value.say(lang, resolve)
    if isinstance(value, Named):
        return (resolve(value, lang) if resolve else None) or str(value)
    if isinstance(value, list | tuple):
        return [render(v, lang, resolve) for v in value]
    if isinstance(value, Mapping):
        return {k: render(v, lang, resolve) for k, v in value.items()}
    return value


def licence_name(code: str, english: str, lang: Lang) -> str:
    """A licence's name in `lang` (`english`: its label in schemas/licences.py)."""
    return LICENCE_ZH.get(code, english) if lang == "zh" else english


def licence_message(code: str, english: str) -> Message:
    """A licence's name as a Message (`english`: its label in schemas/licences.py)."""
    return Message("licence.name", en=english, zh=LICENCE_ZH.get(code, english))


def localise_credit(credited: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """A hit's or a record's licence name and access basis (record_view's `licence` and `access`, as JSON) in
    `lang`, in place."""
    licence, access = credited.get("licence"), credited.get("access")
    if isinstance(licence, dict) and "code" in licence:
        licence["label"] = licence_name(str(licence["code"]), str(licence["label"]), lang)
    if isinstance(access, dict) and "basis" in access:
        access["basis"] = render(access["basis"], lang)
    return credited


def title(problem_type: str, english: str, lang: Lang) -> str:
    """A problem's title in `lang`, by its type URI (`english` for a type the catalogue does not name)."""
    key = "title.error" if problem_type == "about:blank" else "title." + problem_type.rsplit("/", 1)[-1]
    return text(key, lang) if key in TEXTS else english


def negotiate(header: str | None) -> Lang:
    """The language an `Accept-Language` header prefers among zh and en (en when it names neither)."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        weight = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        lang: Lang | None = "zh" if primary == "zh" else "en" if primary == "en" else None
        if lang is not None and weight > 0 and (best is None or (weight, -position) > (best[0], best[1])):
            best = (weight, -position, lang)
    return best[2] if best else DEFAULT


def validation_reason(error: Mapping[str, Any], lang: Lang) -> str:
    """Pydantic's reason for a request validation error, in `lang` where the catalogue has its type."""
    key = f"invalid.{error.get('type')}"
    if lang == DEFAULT or key not in TEXTS:
        return str(error.get("msg", ""))
    try:
        return text(key, lang, **(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error.get("msg", ""))
