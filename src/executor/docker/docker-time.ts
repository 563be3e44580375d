import { msToNs } from '../../common/time';

/** Docker's RFC 3339 nano timestamps → Unix ns; its zero time (0001-01-01…) and garbage → undefined. */
export function dockerTimeNs(value: string | undefined): bigint | undefined {
  if (!value || value.startsWith('0001-')) return undefined;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return msToNs(ms) + BigInt(frac);
}
