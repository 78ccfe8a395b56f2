/**
 * The file the PyTorch reference reads (bench/reference/exportWeights.ts): the layouts check.py
 * transposes from, and the evidence formula it reproduces. Needs no Python.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportWeights, record, referenceRecord } from '../../../bench/reference/exportWeights.ts';
import { referenceModel } from '../../../bench/reference/referenceModel.ts';
import { initBackend } from '../../../src/model/backend.ts';
import { captureLogger } from '../model/helpers.ts';
import type { TrainedModel } from '../../../src/model/checkpoint.ts';

describe('reference export', () => {
  let model: TrainedModel;
  let rec: ReturnType<typeof referenceRecord>;

  // The export runs the scoring procedure and a training gradient: seconds on wasm, more on a loaded machine.
  beforeAll(async () => {
    await initBackend('wasm', captureLogger());
    model = referenceModel();
    rec = referenceRecord(model);
  }, 120_000);
  afterAll(() => model.dispose());

  it('writes conv kernels as [K, Cin, Cout] and dense kernels as [in, out], as check.py transposes them', () => {
    const w = rec.nets[0].weights;
    const { condChannels, width, embedDim, kernelSize } = model.manifest.denoiser;
    expect(condChannels).toBe(2 + 4); // x_0 ⊙ (1 - m), m and the calendar
    expect(w['inProj/kernel'].shape).toEqual([kernelSize, 1 + condChannels, width]);
    expect(w['block0/conv1/kernel'].shape).toEqual([kernelSize, width, width]);
    expect(w['block3/time/kernel'].shape).toEqual([embedDim, width]);
    expect(w['timeEmbed/dense1/kernel'].shape).toEqual([embedDim, embedDim]);
    expect(w['outProj/kernel'].shape).toEqual([1, width, 1]);
    for (const r of Object.values(w)) expect(r.data).toHaveLength(r.shape.reduce((a, b) => a * b, 1));
  });

  it('flattens row-major: element [j, c, o] of a kernel is data[(j·Cin + c)·Cout + o]', () => {
    const values = Object.fromEntries(Object.entries(model.denoiser.getWeights()).map(([name, v]) => [name, tf.reshape(tf.range(0, v.size), v.shape)]));
    const copy = new (model.denoiser.constructor as new (a: typeof model.manifest.denoiser) => typeof model.denoiser)(model.manifest.denoiser);
    try {
      copy.setWeights(values);
      const k = exportWeights(copy)['inProj/kernel'];
      const [, cin, cout] = k.shape;
      expect(k.data[(2 * cin + 5) * cout + 7]).toBe((2 * cin + 5) * cout + 7);
      expect(k.data).toEqual(Array.from({ length: k.data.length }, (_, i) => i));
    } finally {
      copy.dispose();
      tf.dispose(values);
    }
  });

  it("scores with the model's own noise [K, 1, L, C] and evidence = max(NLL, ½ z̄²) for a model without calibrations", () => {
    const s = rec.scoring;
    const { draws } = model.manifest.imputation!;
    expect(s.noise.shape).toEqual([draws, 1, model.manifest.windowLength, 1]);
    expect(s.evidence).toBeDefined();
    s.evidence!.data.forEach((e, i) => expect(e).toBeCloseTo(Math.max(s.nll.data[i], 0.5 * s.zBar!.data[i] ** 2), 4));
    // Both tests must matter in the comparison: neither term wins everywhere.
    expect(s.evidence!.data.some((e, i) => e === s.nll.data[i])).toBe(true);
  });

  it('has a gradient for every weight, in the weight\'s shape', () => {
    const { grads } = rec.training;
    for (const [name, w] of Object.entries(rec.nets[0].weights)) expect(grads[name].shape).toEqual(w.shape);
    expect(Number.isFinite(rec.training.loss)).toBe(true);
  });

  it('refuses data that does not fill its shape', () => {
    expect(() => record([1, 2, 3], [2, 2])).toThrow(/holds 4 values, got 3/);
  });
});
