// The asset page's own strings, in English and Chinese (merged into MESSAGES by messages.js).
export const ASSET_MESSAGES = {
  en: {
  },
  zh: {
  },
};
