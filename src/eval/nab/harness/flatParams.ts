/**
 * A detector's knobs as one flat record for `summary.json`:
 * `{ q: 1e-4, calibration: { shortWindow: 10 } }` → `{ q: 1e-4, 'calibration.shortWindow': 10 }`.
 */
export function flatParams(o: object, prefix = ''): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === 'object') Object.assign(out, flatParams(v, `${prefix}${k}.`));
    else out[prefix + k] = v ?? 'null';
  }
  return out;
}
