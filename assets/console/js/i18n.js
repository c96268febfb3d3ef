// English and Nepali strings. t("key", {n: 3}) fills {n}. Missing Nepali falls back to English.
import {EN, NE} from "./strings.js";

const TABLES = {en: EN, ne: NE};
export const LANGS = [["en", "English"], ["ne", "नेपाली"]];
const KEY = "hb.lang";

let current = (() => {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && TABLES[saved]) return saved;
  } catch { /* ignore */ }
  return (navigator.language || "en").toLowerCase().startsWith("ne") ? "ne" : "en";
})();

export function lang() { return current; }

export function setLang(code) {
  if (!TABLES[code]) return;
  current = code;
  document.documentElement.lang = code;
  try { localStorage.setItem(KEY, code); } catch { /* ignore */ }
}

export function t(key, vars) {
  let s = TABLES[current][key] ?? EN[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function tables() { return TABLES; }
