/**
 * Seeded random streams for the synthetic suite. Each part of a case draws from its own stream,
 * named by the seed and what it is for (`seed|layout|case|type`), so adding a type or a channel
 * never changes the numbers of another: a figure stays comparable across versions of the suite.
 */
import { gaussians, mulberry32 } from '../../random.ts';

export { gaussians };

export type Rng = () => number;

/** FNV-1a, 32 bits: a stable seed from a name. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The stream named by `parts`, e.g. `streamRng(0, 'univariate', 2, 'spike5')`. */
export const streamRng = (...parts: (string | number)[]): Rng => mulberry32(fnv1a(parts.join('|')));

export const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();

/** An integer in [lo, hi], both included. */
export const intIn = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

/** Fisher-Yates, in place. */
export function shuffleInPlace<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
