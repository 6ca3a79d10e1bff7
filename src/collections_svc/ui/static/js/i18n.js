// Locale, dictionaries and Intl formatting. Only the chosen locale is stored in localStorage.
import en from '../i18n/en.js';
import zhCN from '../i18n/zh-CN.js';

const DICTS = { 'zh-CN': zhCN, en };
const STORE_KEY = 'cs_locale';
const BANK_TZ = 'Asia/Shanghai';
export const LOCALES = [['zh-CN', '中文'], ['en', 'English']];

function initial() {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved && DICTS[saved]) return saved;
  } catch { /* storage disabled: fall back to the default */ }
  return 'zh-CN';
}

let locale = initial();
let fmtCache = {};

export function getLocale() { return locale; }
/** The locale code the server's documents take (zh_CN, en). */
export function docLocale() { return locale === 'zh-CN' ? 'zh_CN' : 'en'; }

export function setLocale(next) {
  if (!DICTS[next]) return;
  locale = next;
  fmtCache = {};
  try { localStorage.setItem(STORE_KEY, next); } catch { /* ignore */ }
  document.documentElement.lang = next;
}

/** t(name, {n: 3}) -> the translation with {n} replaced; falls back to English, then the key. */
export function t(key, params) {
  let text = DICTS[locale][key] ?? DICTS.en[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** A label for an enum value (stage, trigger, role...), or the raw value when we have none. */
export function label(group, value) {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${group}.${value}`;
  return DICTS[locale][key] ?? DICTS.en[key] ?? String(value).replace(/_/g, ' ');
}

function cached(name, make) {
  if (!fmtCache[name]) fmtCache[name] = make();
  return fmtCache[name];
}

/** Amounts arrive as decimal strings; Intl formats strings exactly (no float rounding). */
export function money(v, currency = 'CNY') {
  if (v === null || v === undefined || v === '') return '—';
  const f = cached('money-' + currency, () => new Intl.NumberFormat(locale, { style: 'currency', currency }));
  return f.format(String(v));
}

export function moneyCompact(v, currency = 'CNY') {
  const f = cached('moneyc-' + currency, () => new Intl.NumberFormat(locale,
    { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }));
  return f.format(String(v));
}

export function num(v) {
  if (v === null || v === undefined || v === '') return '—';
  return cached('num', () => new Intl.NumberFormat(locale)).format(v);
}

export function pct(v) {
  if (v === null || v === undefined || v === '') return '—';
  return cached('pct', () => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }))
    .format(Number(v));
}

/** A business date "2026-04-01" (no time zone) shown as that calendar day. */
export function date(v) {
  if (!v) return '—';
  const d = new Date(String(v).slice(0, 10) + 'T00:00:00Z');
  if (Number.isNaN(d.getTime())) return String(v);
  return cached('date', () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' })).format(d);
}

/** A UTC timestamp shown in the bank's time zone. */
export function datetime(v) {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return cached('dt', () => new Intl.DateTimeFormat(locale,
    { dateStyle: 'medium', timeStyle: 'short', timeZone: BANK_TZ })).format(d);
}

export function yesNo(v) {
  return v ? t('common.yes') : t('common.no');
}
