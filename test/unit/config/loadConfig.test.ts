import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { ConfigError } from '../../../src/errors.ts';

function file(content: unknown): string {
  const f = join(mkdtempSync(join(tmpdir(), 'cfg-')), 'c.json');
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the defaults, frozen, when nothing overrides them', () => {
    const c = loadConfig({ env: {} });
    expect(c).toEqual(DEFAULTS);
    expect(Object.isFrozen(c.kafka.brokers)).toBe(true);
    expect(() => {
      (c.stream as { windowLength: number }).windowLength = 3;
    }).toThrow(TypeError);
  });

  it('layers file over defaults and env over file', () => {
    const f = file({ kafka: { brokers: ['a:1'], topics: ['x'] }, stream: { windowLength: 32 } });
    const c = loadConfig({ file: f, env: { KAFKA_BROKERS: 'b:2, c:3', INFLUX_URL: 'http://db:8086' } });
    expect(c.kafka.brokers).toEqual(['b:2', 'c:3']);
    expect(c.kafka.topics).toEqual(['x']);
    expect(c.stream.windowLength).toBe(32);
    expect(c.stream.hop).toBe(DEFAULTS.stream.hop);
    expect(c.sinks.influx.url).toBe('http://db:8086');
    expect(c.sinks.influx.database).toBe('diffwatch');
  });

  it('names the key of a bad value and says how to fix it', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ stream: { windowLength: 1 } }, 'stream.windowLength', /between 2 and/],
      [{ stream: { hop: 100 } }, 'stream.hop', /at most stream.windowLength/],
      [{ kafka: { brokers: ['nohost'] } }, 'kafka.brokers', /host:port/],
      [{ kafka: { topicPattern: '(' } }, 'kafka.topicPattern', /regular expression/],
      [{ ingest: { format: 'xml' } }, 'ingest.format', /one of avro, confluent, json/],
      [{ ingest: { format: 'confluent' } }, 'ingest.schemaIds', /schema id/],
      [{ ingest: { lowWaterMark: 50_000 } }, 'ingest.lowWaterMark', /below ingest.highWaterMark/],
      [{ sinks: { influx: { url: 'ftp://x' } } }, 'sinks.influx.url', /http\(s\) URL/],
      [{ stream: { windowLenght: 4 } }, 'stream.windowLenght', /unknown key/],
      [{ scorer: { kind: 'magic' } }, 'scorer.kind', /baseline, diffusion/],
    ];
    for (const [content, key, msg] of cases) {
      const e = errorOf(() => loadConfig({ file: file(content), env: {} }));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.coords.key).toBe(key);
      expect(e.message).toMatch(msg);
    }
  });

  it('rejects unreadable and non-JSON files and bad env ports', () => {
    expect(errorOf(() => loadConfig({ file: '/nonexistent/c.json', env: {} })).message).toMatch(/cannot read config file/);
    expect(errorOf(() => loadConfig({ file: file('{nope'), env: {} })).message).toMatch(/not valid JSON/);
    expect(errorOf(() => loadConfig({ env: { KAFKA_PORT: 'abc' } })).coords.key).toBe('stack.kafkaPort');
  });

  it('accepts open maps such as per-topic formats', () => {
    const c = loadConfig({ file: file({ ingest: { formats: { a: 'json', b: 'avro' } } }), env: {} });
    expect(c.ingest.formats).toEqual({ a: 'json', b: 'avro' });
  });
});

/** A diffusion config: `diffusion` overrides scorer.diffusion, `rest` any other section. */
function diffusion(d: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...rest, scorer: { kind: 'diffusion', diffusion: d } };
}

describe('loadConfig: model routing, cold start and fine-tuning', () => {
  function expectInvalid(content: unknown, key: string, msg: RegExp): void {
    const e = errorOf(() => loadConfig({ file: file(content), env: {} }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.coords.key).toBe(key);
    expect(e.message).toContain(key);
    expect(e.message).toMatch(msg);
  }

  it('validates each models rule, naming the rule and its key', () => {
    const store = { modelDir: 'models/shared', modelStore: 'models/trained' };
    const cases: [unknown[], string, RegExp][] = [
      [[{ match: '^a', use: 'entity', dir: 'x' }], 'scorer.diffusion.models[0].dir', /unknown key\. Known keys here: match, use\./],
      [[{ match: '^a', use: 'group', group: 'g', normalization: 'entity' }], 'scorer.diffusion.models[0].normalization', /unknown key/],
      [[{ match: '^a', use: 'entity' }, { match: '^b', use: 'dir', dir: 'd', normalization: 'model', group: 'g' }], 'scorer.diffusion.models[1].group', /unknown key\. Known keys here: match, use, dir, normalization/],
      [[{ match: '(', use: 'entity' }], 'scorer.diffusion.models[0].match', /not a valid regular expression/],
      [[{ match: '', use: 'entity' }], 'scorer.diffusion.models[0].match', /non-empty string/],
      [[{ use: 'entity' }], 'scorer.diffusion.models[0].match', /non-empty string/],
      [[{ match: '^a', use: 'shared' }], 'scorer.diffusion.models[0].use', /one of dir, entity, group/],
      [[{ match: '^a' }], 'scorer.diffusion.models[0].use', /one of dir, entity, group/],
      [[{ match: '^a', use: 'dir', dir: 'models/x' }], 'scorer.diffusion.models[0].normalization', /one of model, entity/],
      [[{ match: '^a', use: 'dir', dir: 'models/x', normalization: 'global' }], 'scorer.diffusion.models[0].normalization', /one of model, entity/],
      [[{ match: '^a', use: 'dir', normalization: 'model' }], 'scorer.diffusion.models[0].dir', /non-empty string/],
      [[{ match: '^a', use: 'group', group: 'a/b' }], 'scorer.diffusion.models[0].group', /letters, digits/],
      [[{ match: '^a', use: 'group', group: '' }], 'scorer.diffusion.models[0].group', /letters, digits/],
      [[{ match: '^a', use: 'group' }], 'scorer.diffusion.models[0].group', /letters, digits/],
      [['^a'], 'scorer.diffusion.models[0]', /must be an object/],
    ];
    for (const [models, key, msg] of cases) expectInvalid(diffusion({ ...store, models }), key, msg);
    expectInvalid(diffusion({ ...store, models: { match: '^a', use: 'entity' } }), 'scorer.diffusion.models', /array of rules/);
  });

  it('the diffusion scorer needs a modelDir or a modelStore', () => {
    expectInvalid(diffusion({}), 'scorer.diffusion.modelDir', /diffwatch train.*modelStore/s);
    expectInvalid(diffusion({ modelDir: null, modelStore: null }), 'scorer.diffusion.modelDir', /modelStore/);
    // The baseline scorer does not care.
    expect(loadConfig({ file: file({ scorer: { kind: 'baseline' } }), env: {} }).scorer.diffusion.modelDir).toBeNull();
  });

  it('rules that make the service train or fit a scaler need a modelStore', () => {
    const trains: unknown[] = [
      { match: '^a', use: 'entity' },
      { match: '^a', use: 'group', group: 'pumps' },
      { match: '^a', use: 'dir', dir: 'models/x', normalization: 'entity' },
    ];
    for (const rule of trains) expectInvalid(diffusion({ modelDir: 'models/shared', models: [rule] }), 'scorer.diffusion.modelStore', /set scorer.diffusion.modelStore/);
    // A shared checkpoint with its own scaler trains nothing: no store needed.
    const c = loadConfig({ file: file(diffusion({ modelDir: 'models/shared', models: [{ match: '^a', use: 'dir', dir: 'models/x', normalization: 'model' }] })), env: {} });
    expect(c.scorer.diffusion.modelStore).toBeNull();
    // Without a modelDir, unmatched entities get models of their own: a store alone is enough.
    expect(loadConfig({ file: file(diffusion({ modelStore: 'models/trained' })), env: {} }).scorer.diffusion.modelDir).toBeNull();
  });

  it('names the coldStart.training key the model settings reject', () => {
    expectInvalid(diffusion({ modelStore: 'm', coldStart: { training: { widht: 8 } } }), 'scorer.diffusion.coldStart.training.widht', /unknown key. Known keys: .*width/);
    const bad = errorOf(() => loadConfig({ file: file(diffusion({ modelStore: 'm', coldStart: { training: { width: -3 } } })), env: {} }));
    expect(bad.coords.key).toBe('scorer.diffusion.coldStart.training.width');
    expect(bad.message).not.toMatch(/config model\./); // the inner key is replaced, not nested
    expectInvalid(diffusion({ modelStore: 'm', coldStart: { training: [8] } }), 'scorer.diffusion.coldStart.training', /object of model settings/);
  });

  it('coldStart.training.windowLength must equal stream.windowLength', () => {
    expectInvalid(diffusion({ modelStore: 'm', coldStart: { training: { windowLength: 64 } } }, { stream: { windowLength: 32 } }), 'scorer.diffusion.coldStart.training.windowLength', /must equal stream.windowLength \(32\)/);
    const c = loadConfig({ file: file(diffusion({ modelStore: 'm', coldStart: { training: { windowLength: 32 } } }, { stream: { windowLength: 32 } })), env: {} });
    expect(c.scorer.diffusion.coldStart.training).toEqual({ windowLength: 32 });
  });

  it('checks the coldStart and fineTune numbers', () => {
    const m = { modelStore: 'm' };
    expectInvalid(diffusion({ ...m, coldStart: { windows: 15 } }), 'scorer.diffusion.coldStart.windows', /between 16 and/);
    expectInvalid(diffusion({ ...m, coldStart: { maxConcurrent: 0 } }), 'scorer.diffusion.coldStart.maxConcurrent', /between 1 and 16/);
    expectInvalid(diffusion({ ...m, fineTune: { recentWindows: 4 } }), 'scorer.diffusion.fineTune.recentWindows', /between 16 and/);
    expectInvalid(diffusion({ ...m, fineTune: { epochs: 0 } }), 'scorer.diffusion.fineTune.epochs', /between 1 and 1000/);
    expectInvalid(diffusion({ ...m, fineTune: { refitNormalization: 'yes' } }), 'scorer.diffusion.fineTune.refitNormalization', /true or false/);
    expectInvalid(diffusion({ ...m, fineTune: { everyWindows: -1 } }), 'scorer.diffusion.fineTune.everyWindows', /between 0 and/);
  });

  it('coldStart.hold is a boolean', () => {
    expectInvalid(diffusion({ modelStore: 'm', coldStart: { hold: 'yes' } }), 'scorer.diffusion.coldStart.hold', /true or false/);
  });

  it('fineTune.adoptAfterWindows is 0 or at least 4·L', () => {
    const at = (adoptAfterWindows: number) => diffusion({ modelStore: 'm', fineTune: { adoptAfterWindows } }, { stream: { windowLength: 16 } });
    for (const n of [1, 2, 63]) expectInvalid(at(n), 'scorer.diffusion.fineTune.adoptAfterWindows', /0 \(never\) or at least 4 × stream.windowLength \(64\)/);
    expectInvalid(at(-1), 'scorer.diffusion.fineTune.adoptAfterWindows', /between 0 and/);
    for (const n of [0, 64, 1_000]) expect(loadConfig({ file: file(at(n)), env: {} }).scorer.diffusion.fineTune.adoptAfterWindows).toBe(n);
  });

  it('loads a full model-routing config, frozen, with defaults for what it leaves out', () => {
    const models = [
      { match: '^pump-1', use: 'group', group: 'big_pumps.v2' },
      { match: '^pump-', use: 'entity' },
      { match: '^fan-', use: 'dir', dir: 'models/fans', normalization: 'entity' },
      { match: 'chiller', use: 'dir', dir: 'models/chillers', normalization: 'model' },
    ];
    const c = loadConfig({
      file: file(
        diffusion(
          {
            modelDir: 'models/shared',
            modelStore: 'models/trained',
            models,
            coldStart: { windows: 500, training: { width: 16, depth: 2, epochs: 4, windowLength: 32 }, maxConcurrent: 2 },
            fineTune: { everyWindows: 10_000, recentWindows: 2_000, epochs: 2, refitNormalization: false, adoptAfterWindows: 128 },
          },
          { stream: { windowLength: 32 } },
        ),
      ),
      env: {},
    });
    const d = c.scorer.diffusion;
    expect(c.scorer.kind).toBe('diffusion');
    expect(d.models).toEqual(models);
    expect(d.coldStart).toEqual({ ...DEFAULTS.scorer.diffusion.coldStart, windows: 500, training: { width: 16, depth: 2, epochs: 4, windowLength: 32 }, maxConcurrent: 2 });
    expect(d.fineTune).toEqual({ ...DEFAULTS.scorer.diffusion.fineTune, everyWindows: 10_000, recentWindows: 2_000, epochs: 2, refitNormalization: false, adoptAfterWindows: 128 });
    expect(d.workers).toBe(DEFAULTS.scorer.diffusion.workers);
    expect(Object.isFrozen(d.models[0])).toBe(true);
    expect(Object.isFrozen(d.coldStart.training)).toBe(true);
  });
});

describe('loadConfig: the onset judge', () => {
  it('takes detect.judge onset with its scorer settings, and names a bad one', () => {
    const ok = loadConfig({ file: file({ detect: { judge: 'onset', onsetScorer: { gate: { holdWindows: 50 } } } }), env: {} });
    expect(ok.detect.judge).toBe('onset');
    expect(ok.detect.onsetScorer.gate.holdWindows).toBe(50);
    expect(ok.detect.onsetScorer.recentPoints).toBe(DEFAULTS.detect.onsetScorer.recentPoints);
    expect(errorOf(() => loadConfig({ file: file({ detect: { judge: 'spot' } }), env: {} })).coords.key).toBe('detect.judge');
    expect(errorOf(() => loadConfig({ file: file({ detect: { onsetScorer: { tailRank: { capacity: 5, minHistory: 10 } } } }), env: {} })).coords.key).toBe('detect.onsetScorer.tailRank.capacity');
    expect(errorOf(() => loadConfig({ file: file({ detect: { onsetScorer: { gate: { level: 'x' } } } }), env: {} })).coords.key).toBe('detect.onsetScorer.gate.level');
  });

  it('refuses openAfterWindows > 1 with the onset judge, which triggers one window per excursion', () => {
    const e = errorOf(() => loadConfig({ file: file({ detect: { judge: 'onset', lifecycle: { openAfterWindows: 3 } } }), env: {} }));
    expect(e.coords.key).toBe('detect.lifecycle.openAfterWindows');
    expect(e.message).toMatch(/must be 1 with detect.judge "onset"/);
  });
});
