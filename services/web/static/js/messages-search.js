// The search page's own strings, in English and Chinese (merged into MESSAGES by messages.js).
export const SEARCH_MESSAGES = {
  en: {
  },
  zh: {
  },
};
