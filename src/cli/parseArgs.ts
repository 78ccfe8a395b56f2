import { ConfigError } from '../errors.ts';

/**
 * A small argv parser: `--key value`, `--key=value`, `--flag`, and positionals.
 * Repeated keys collect into arrays.
 */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean | string[]>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: {} };
  const put = (k: string, v: string | boolean) => {
    const prev = out.flags[k];
    if (prev === undefined || typeof prev === 'boolean') out.flags[k] = v;
    else out.flags[k] = Array.isArray(prev) ? [...prev, String(v)] : [prev, String(v)];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) put(a.slice(2, eq), a.slice(eq + 1));
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) put(a.slice(2), argv[++i]);
      else put(a.slice(2), true);
    } else if (a === '-h') {
      put('h', true);
    } else {
      out.positionals.push(a);
    }
  }
  return out;
}

/** The string value of a flag, or undefined. A flag given twice keeps the last. */
export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined || typeof v === 'boolean') return undefined;
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function flagNumber(args: ParsedArgs, name: string): number | undefined {
  const s = flagString(args, name);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new ConfigError(`--${name}`, `must be a number, got ${s}`);
  return n;
}
