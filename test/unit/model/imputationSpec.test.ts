import { describe, expect, it } from 'vitest';
import type { ImputationScoring } from '../../../src/model/checkpoint.ts';
import { clampConditioning, imputationScoring, noveltyTerms } from '../../../src/model/imputationSpec.ts';
import { MODEL_DEFAULTS } from '../../../src/model/modelConfig.ts';

// Channel 0 analogue, 1 a command with levels 0/1 (scale 1), 2 a constant 5 (floor scale 0.001).
const scoring: ImputationScoring = { steps: 2, draws: 4, sigmaFloor: 0.05, targets: [true, false, false], levels: [null, [0, 1], [5]] };
const scaler = { center: [10, 0, 5], scale: [2, 1, 0.001] };
const L = 4;
const C = 3;
/** One window `[1, L, 3]`, scaled: the analogue channel at 0, the command and the constant as given per row. */
const window = (cmd: number[], konst: number[]) => Float32Array.from({ length: L * C }, (_, k) => (k % C === 0 ? 0 : k % C === 1 ? cmd[Math.floor(k / C)] : konst[Math.floor(k / C)]));

describe('conditioning channels', () => {
  it('are fed to the net inside the range of their training levels; targets untouched', () => {
    const z = window([0, 1, 2, -3], [0, 0, 1000, 0]);
    z[0] = 40;
    const fed = clampConditioning(z, 1, L, C, scoring, scaler);
    expect(Array.from({ length: L }, (_, i) => fed[i * C + 1])).toEqual([0, 1, 1, 0]);
    expect(Array.from({ length: L }, (_, i) => fed[i * C + 2])).toEqual([0, 0, 0, 0]);
    expect(fed[0]).toBe(40);
    expect(z[2 * C + 2]).toBe(1000); // the caller's windows are not modified
  });

  it('score a never-seen newest value once, bounded by ln(n + 1), and nothing for a seen or held one', () => {
    const cap = Math.log(1001);
    const at = (cmd: number[], konst: number[]) => Array.from(noveltyTerms(window(cmd, konst), 0, L, C, scoring, scaler, 1000));
    expect(at([0, 1, 0, 1], [0, 0, 0, 0])).toEqual([0, 0, 0]);
    expect(at([0, 0, 0, 1.01], [0, 0, 0, 0])[1]).toBeCloseTo(0.5 * (0.01 / 0.05) ** 2, 5); // close to a level: small (float32 windows)
    expect(at([0, 0, 0, 3], [0, 0, 0, 1000])).toEqual([0, cap, cap]); // the constant moved by 1 (1000 floor units)
    expect(at([0, 0, 3, 3], [0, 0, 1000, 1000])).toEqual([0, 0, 0]); // held from the row before: not new again
  });

  it('the net reads the targets and the related commands; with no target at all, every channel (a net cannot be built for none)', () => {
    const N = 400;
    // Channel 0 analogue, 1 a flag unrelated to it, 2 another flag.
    const rows = Float64Array.from({ length: N * 3 }, (_, k) => {
      const [i, c] = [Math.floor(k / 3), k % 3];
      return c === 0 ? Math.sin(i / 5) + 0.01 * (i % 3) : (i * (c + 3)) % 41 < 2 ? 1 : 0;
    });
    expect(imputationScoring(rows, 3, MODEL_DEFAULTS, 8).reads).toEqual([true, false, false]);
    const flags = rows.filter((_, k) => k % 3 !== 0); // [N, 2]: nothing analogue
    const none = imputationScoring(flags, 2, MODEL_DEFAULTS, 8);
    expect(none.targets).toEqual([false, false]);
    expect(none.reads).toBeUndefined();
  });
});
