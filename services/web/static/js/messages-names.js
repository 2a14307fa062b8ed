// Strings of the pages the server names (description, the page for an object that is not there), in English and
// Chinese (merged into MESSAGES by messages.js; the server reads them too: services/gateway/page_i18n.py).
export const NAMES_MESSAGES = {
  en: {
    "meta.site": "Wenyuan shares the collections of Chinese museums and cultural-relic institutions, as far as each licence allows.",
    "meta.search": "Search the collections of Chinese museums in Chinese or English, or by a picture, and reuse what each licence allows.",
    "meta.console": "The console of museums and cultural-relic institutions: upload batches, follow them and review AI labels.",
    "notfound.title": "Not found",
    "notfound.heading": "No such object here",
    "notfound.text": "There is no object at this address that you may see: it may have been withdrawn, or the address may be mistyped.",
    "notfound.checking": "Checking with your key…",
    "notfound.search": "Search the collections",
    "field.region": "Region",
  },
  zh: {
    "meta.site": "文渊在各自许可允许的范围内共享中国博物馆与文物机构的藏品。",
    "meta.search": "用中文、英文或一张图片检索中国博物馆的藏品，并在各自许可允许的范围内再利用。",
    "meta.console": "博物馆与文物机构的控制台：上传批次、跟踪处理进度、审核 AI 标签。",
    "notfound.title": "未找到",
    "notfound.heading": "这里没有这件藏品",
    "notfound.text": "此地址下没有您可以查看的藏品：它可能已被撤下，或者地址有误。",
    "notfound.checking": "正在用您的密钥核对……",
    "notfound.search": "检索馆藏",
    "field.region": "地区",
  },
};
