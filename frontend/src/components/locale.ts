/**
 * The browser's preferred languages: numbers and dates are written the way the person reading
 * them writes them (a German browser reads "1.204", an American one "Nov 21, 2026").
 */
export function userLocales(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  if (navigator.languages?.length) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

const numbers = new Map<string, Intl.NumberFormat>();

/** A whole number with the reader's digit grouping: "5,003", "5 003", "5.003". */
export function formatNumber(n: number): string {
  const key = userLocales().join(',');
  let f = numbers.get(key);
  if (!f) {
    f = new Intl.NumberFormat([...userLocales()]);
    numbers.set(key, f);
  }
  return f.format(n);
}
