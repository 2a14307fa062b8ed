// The console page's own strings, in English and Chinese (merged into MESSAGES by messages.js).
export const CONSOLE_MESSAGES = {
  en: {
  },
  zh: {
  },
};
