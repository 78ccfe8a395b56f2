import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/model/backend.ts';
import { ModelError } from '../../../src/errors.ts';
import { captureLogger } from './helpers.ts';

// Neither @tensorflow/tfjs-node(-gpu) nor @tensorflow/tfjs-backend-webgpu is installed in this
// project's test environment; these tests pin how that absence is reported.
// These expectations hold where no native package is installed (`npm ci` installs none; see
// docs/native-backend.md). With `npm run native:setup`, test/unit/model/nativeBackend.test.ts applies.
const nativeInstalled = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'].some((p) => {
  try {
    createRequire(import.meta.url).resolve(p);
    return true;
  } catch {
    return false;
  }
});

describe.skipIf(nativeInstalled)('initBackend', () => {
  it("'auto' skips tensorflow and webgpu with their reasons, selects wasm and logs why", async () => {
    const log = captureLogger();
    const choice = await initBackend('auto', log);
    expect(choice.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(Object.keys(choice.reasons)).toEqual(['tensorflow', 'webgpu']);
    expect(choice.reasons.tensorflow).toMatch(/@tensorflow\/tfjs-node-gpu.*@tensorflow\/tfjs-node/);
    expect(choice.reasons.webgpu).toMatch(/tfjs-backend-webgpu not installed/);
    const selected = log.lines.find((l) => l.msg === 'model backend selected');
    expect(selected?.fields).toMatchObject({ backend: 'wasm', requested: 'auto', skipped: choice.reasons });
    // The wasm backend computes, and a second initialisation is harmless.
    expect(tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0])).toBe(6);
    expect((await initBackend('wasm', log)).name).toBe('wasm');
  });

  it('selects an explicit cpu', async () => {
    expect(await initBackend('cpu', captureLogger())).toEqual({ name: 'cpu', reasons: {} });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('fails an explicit request it cannot meet with BACKEND_UNAVAILABLE and the reason', async () => {
    const err = await initBackend('tensorflow', captureLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).code).toBe('BACKEND_UNAVAILABLE');
    expect((err as ModelError).message).toMatch(/backend 'tensorflow' was requested but is unavailable.*tfjs-node/);
    await expect(initBackend('webgl' as 'cpu', captureLogger())).rejects.toThrow(/unknown backend "webgl"/);
  });
});
