// Exact decimal arithmetic for amounts that arrive as strings ("1234.56"): integer cents in BigInt.
export function cents(v) {
  if (v === null || v === undefined || v === '') return 0n;
  const str = String(v).trim();
  const neg = str.startsWith('-');
  const [whole, frac = ''] = str.replace(/^[-+]/, '').split('.');
  const c = BigInt(whole || '0') * 100n + BigInt((frac + '00').slice(0, 2));
  return neg ? -c : c;
}

export function fromCents(c) {
  const neg = c < 0n;
  const a = neg ? -c : c;
  const s = `${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
  return neg ? '-' + s : s;
}

export function sum(...values) {
  return fromCents(values.reduce((acc, v) => acc + cents(v), 0n));
}

export function isPositive(v) {
  return cents(v) > 0n;
}
