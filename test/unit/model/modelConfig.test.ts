import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { MODEL_DEFAULTS, resolveModelConfig } from '../../../src/model/modelConfig.ts';

describe('resolveModelConfig', () => {
  it('fills every default and freezes the result', () => {
    const cfg = resolveModelConfig({ epochs: 3 });
    expect(cfg).toEqual({ ...MODEL_DEFAULTS, epochs: 3 });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('ignores keys given as undefined (unset CLI flags)', () => {
    expect(resolveModelConfig({ seed: undefined }).seed).toBe(MODEL_DEFAULTS.seed);
  });

  it.each([
    [{ t0: 100 }, 'model.t0', '[0, 99]'],
    [{ T: 20, t0: 30 }, 'model.t0', '[0, 19]'],
    [{ t0: 3, steps: 5 }, 'model.steps', '[1, 4]'],
    [{ windowLength: 1 }, 'model.windowLength', 'integer'],
    [{ width: 2.5 }, 'model.width', 'integer'],
    [{ lr: 0 }, 'model.lr', '(0, 1)'],
    [{ validationFraction: 0 }, 'model.validationFraction', '(0, 0.9]'],
    [{ scheduleKind: 'quadratic' }, 'model.scheduleKind', "'cosine' or 'linear'"],
    [{ windowCentering: 'yes' }, 'model.windowCentering', 'true or false'],
    [{ patience: -1 }, 'model.patience', 'integer'],
  ])('rejects %j naming the key and the allowed range', (bad, key, hint) => {
    const err = (() => {
      try {
        resolveModelConfig(bad as Record<string, unknown>);
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.coords.key).toBe(key);
    expect(err.message).toContain(hint);
  });

  it('rejects an unknown key and lists the known ones', () => {
    expect(() => resolveModelConfig({ epoch: 3 } as Record<string, unknown>)).toThrow(/model\.epoch: unknown key.*epochs/);
  });
});
