/**
 * From zod's issues to one ConfigError. The error's key is the first issue's full dotted path
 * (`kafka.sessionTimeoutMs`, `scorer.diffusion.models[0].match`); its message says what was
 * expected and what was given, and lists every other issue after it. Unknown keys come first,
 * then the rest in schema order (kafka, ingest, ...); rules across keys are only checked once
 * every key is valid on its own.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { shown } from './fields.ts';

/** `scorer.diffusion.models[0].match` from `['scorer', 'diffusion', 'models', 0, 'match']`. */
export function keyOf(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** Optimal-string-alignment distance: edits, a swap of neighbours counting as one. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known key closest to `word`, if it is close enough to be a typo of it (case ignored). */
export function didYouMean(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const dist = editDistance(word.toLowerCase(), k.toLowerCase());
    if (dist < bestDistance) [best, bestDistance] = [k, dist];
  }
  return best;
}

type RawIssue = z.core.$ZodRawIssue;

/** The message of an unknown key, with the closest known key of its object. */
function unknownKeyMessage(issue: RawIssue & { keys: string[] }): string {
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  const known = shape ? Object.keys(shape) : [];
  const [first, ...more] = issue.keys;
  const guess = didYouMean(first, known);
  const also = more.length > 0 ? ` Also unknown here: ${more.join(', ')}.` : '';
  return `unknown key${guess ? `: did you mean ${guess}?` : '.'} Known keys here: ${known.join(', ')}.${also}`;
}

/**
 * zod's error map for the issues a schema does not word itself (each leaf in fields.ts does);
 * pass it as `safeParse(input, { error: configErrorMap })`.
 */
export function configErrorMap(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeyMessage(issue as RawIssue & { keys: string[] });
    case 'invalid_type':
      return `must be ${issue.expected === 'object' ? 'an object' : `of type ${issue.expected}`}, got ${shown(issue.input)}`;
    case 'invalid_key':
      return (issue as { issues?: { message: string }[] }).issues?.[0]?.message ?? `is not a valid key, got ${shown(issue.input)}`;
    default:
      return undefined;
  }
}

/** The full key of an issue: an unknown key's own path, not its object's. */
function issueKey(issue: z.core.$ZodIssue): string {
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  return keyOf(path);
}

/**
 * One ConfigError for all the issues: the first one's key, every issue in the message. Unknown
 * keys come first, since a misspelt key also leaves the key it meant missing.
 */
export function configErrorOf(issues: readonly z.core.$ZodIssue[]): ConfigError {
  const unknownFirst = [...issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
  const [first, ...rest] = unknownFirst;
  const others = rest.map((i) => `config ${issueKey(i)}: ${i.message}`);
  const tail = others.length > 0 ? `\n  and ${others.length} more:\n  ${others.join('\n  ')}` : '';
  return new ConfigError(issueKey(first), `${first.message}${tail}`);
}
