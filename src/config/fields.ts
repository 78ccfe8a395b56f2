/**
 * The leaf types of the config schema, each with one wording for its errors: what was expected,
 * then what was given, e.g. `must be between 2 and 65536, got 1`.
 *
 * @example
 * const windowLength = int(2, 65_536).default(64).describe('Window length L, in points.');
 */
import { z } from 'zod';

/** A given value as the error shows it. */
export function shown(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

/** An error message that says what a key must be, then what it got. */
export function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => `must be ${what}, got ${shown(issue.input)}`;
}

/** An integer in [min, max]. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  const range = expected(`between ${min} and ${max}`);
  return z
    .number({ error: expected('an integer') })
    .int({ error: expected('an integer') })
    .min(min, { error: range })
    .max(max, { error: range });
}

/** A finite number, at least `min`. */
export function num(min = -Number.MAX_VALUE) {
  return z.number({ error: expected('a finite number') }).min(min, { error: expected(`at least ${min}`) });
}

/** A finite number of a section whose range its own module checks. */
export function anyNum() {
  return z.number({ error: expected('a finite number') });
}

export function str() {
  return z.string({ error: expected('a non-empty string') }).min(1, { error: expected('a non-empty string') });
}

export function bool() {
  return z.boolean({ error: expected('true or false') });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: expected(`one of ${values.join(', ')}`) });
}

/** An array of non-empty strings. */
export function strArray() {
  return z.array(str(), { error: expected('an array of non-empty strings') });
}

/** The source of a regular expression, checked by compiling it. */
export function regexSource() {
  return str().check((ctx) => {
    try {
      new RegExp(ctx.value);
    } catch (e) {
      ctx.issues.push({ code: 'custom', input: ctx.value, message: `is not a valid regular expression: ${(e as Error).message}` });
    }
  });
}

/** A string matching `pattern`; `what` says in words what it must be. */
export function matching(pattern: RegExp, what: string) {
  return z.string({ error: expected(what) }).regex(pattern, { error: expected(what) });
}

export function httpUrl() {
  const what = 'an http(s) URL such as http://127.0.0.1:8086';
  return z.string({ error: expected(what) }).refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { error: expected(what) });
}

/** An InfluxQL duration InfluxDB accepts for a retention policy (at least 1 h), or INF. */
export function duration() {
  return matching(/^(INF|[1-9]\d*[hdw])$/, 'a duration such as 30d, 52w or 720h, or INF');
}

export function port(min = 1) {
  return int(min, 65_535);
}

/**
 * Rules across the keys of one object, checked once each key is valid on its own (so that a
 * rule never reads a wrong type, and the first error is the most local one). `fail` takes the
 * path of the key to blame, relative to the object.
 */
export function rules<T extends z.ZodType>(schema: T, check: (value: z.output<T>, fail: (path: PropertyKey[], message: string) => void) => void): T {
  return schema.check((ctx) => {
    if (ctx.issues.length > 0) return;
    check(ctx.value as z.output<T>, (path, message) => ctx.issues.push({ code: 'custom', path, message, input: ctx.value }));
  }) as T;
}
