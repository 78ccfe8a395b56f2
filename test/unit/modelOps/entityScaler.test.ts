import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../../src/modelOps/diffusionScorer.ts';
import { affineFor, readEntityScaler, writeEntityScaler } from '../../../src/modelOps/entityScaler.ts';

const series = (offset: number) => {
  const N = 101;
  const values = new Float64Array(N * 2);
  for (let n = 0; n < N; n++) {
    values[n * 2] = offset + n; // a: median offset + 50, spread ~ 50
    values[n * 2 + 1] = 3 * ((n * 7) % 11); // b
  }
  return { values, timestamps: Float64Array.from({ length: N }, (_, n) => n * 1_000), channels: ['a', 'b'] };
};

const model: LoadedModel = { modelDir: 'm', version: 'v', channels: ['b', 'a'], windowLength: 4, normalization: { center: [2, 100], scale: [4, 10] } };

describe('entityScaler', () => {
  it('writes the scaler with a content version and reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-scaler-'));
    const v1 = await writeEntityScaler(join(dir, 'one'), series(1_000));
    const v2 = await writeEntityScaler(join(dir, 'two'), series(1_000));
    const v3 = await writeEntityScaler(join(dir, 'three'), series(2_000));
    expect(v1).toMatch(/^[0-9a-f]{16}$/);
    expect(v2).toBe(v1);
    expect(v3).not.toBe(v1);
    expect(readdirSync(join(dir, 'one'))).toEqual(['normalization.json']);
    const s = readEntityScaler(join(dir, 'one'));
    expect(s.channels).toEqual(['a', 'b']);
    expect(s.scaler.center[0]).toBe(1_050);
  });

  it('maps values so that the model normalises them exactly as the entity scaler would, across a channel reorder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-scaler-'));
    await writeEntityScaler(dir, series(1_000));
    const entity = readEntityScaler(dir);
    const { gain, offset } = affineFor(model, entity);
    // Model channel c ↔ entity channel e.
    for (const [c, e] of [[0, 1], [1, 0]]) {
      for (const x of [-5, 0, 1_040, 1_200]) {
        const viaModel = (gain[c] * x + offset[c] - model.normalization.center[c]) / model.normalization.scale[c];
        const viaEntity = (x - entity.scaler.center[e]) / entity.scaler.scale[e];
        expect(viaModel).toBeCloseTo(viaEntity, 3);
      }
    }
  });
});
