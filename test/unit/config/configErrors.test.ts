import { describe, expect, it } from 'vitest';
import { didYouMean, keyOf } from '../../../src/config/configIssues.ts';
import { loadConfig } from '../../../src/config/loadConfig.ts';
import { DEFAULTS } from '../../../src/config/schema.ts';
import { DEFAULT_LIFECYCLE_OPTIONS } from '../../../src/detect/alertLifecycle.ts';
import { ONSET_SCORER_DEFAULTS } from '../../../src/detect/onsetScorer.ts';
import { THRESHOLD_STATE_DEFAULTS } from '../../../src/detect/thresholdState.ts';
import { ConfigError } from '../../../src/errors.ts';

function errorOf(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig({ overrides, env });
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function expectInvalid(overrides: Record<string, unknown>, key: string, msg: RegExp, env: NodeJS.ProcessEnv = {}): ConfigError {
  const e = errorOf(overrides, env);
  expect(e.code).toBe('CONFIG_INVALID');
  expect(e.coords.key).toBe(key);
  expect(e.message).toContain(`config ${key}: `);
  expect(e.message).toMatch(msg);
  return e;
}

describe('config errors', () => {
  it('refuses an unknown key, naming the closest known one', () => {
    expectInvalid({ kafka: { sesionTimeoutMs: 10_000 } }, 'kafka.sesionTimeoutMs', /unknown key: did you mean sessionTimeoutMs\? Known keys here: brokers, clientId/);
    expectInvalid({ kafak: {} }, 'kafak', /did you mean kafka\?/);
    expectInvalid({ detect: { threshold: { calibration: { minstd: 0.1 } } } }, 'detect.threshold.calibration.minstd', /did you mean minStd\?/);
    expectInvalid({ detect: { onsetScorer: { gate: { holdWindow: 3 } } } }, 'detect.onsetScorer.gate.holdWindow', /did you mean holdWindows\?/);
    expectInvalid({ scorer: { diffusion: { models: [{ match: 'a', use: 'group', grop: 'g' }] } } }, 'scorer.diffusion.models[0].grop', /did you mean group\?/);
    // Nothing close: no guess, the known keys only.
    const far = expectInvalid({ stream: { zebra: 1 } }, 'stream.zebra', /unknown key\. Known keys here: channels, /);
    expect(far.message).not.toMatch(/did you mean/);
  });

  it('names the full path of a nested wrong type, with what was expected and what was given', () => {
    expectInvalid({ detect: { rules: { flatline: { minPoints: 'ten' } } } }, 'detect.rules.flatline.minPoints', /must be an integer, got "ten"/);
    expectInvalid({ scorer: { diffusion: { models: [{ match: '^a', use: 'entity' }, { match: 5, use: 'entity' }] } } }, 'scorer.diffusion.models[1].match', /must be a non-empty string, got 5/);
    expectInvalid({ detect: { onsetScorer: { levelShift: { cap: true } } } }, 'detect.onsetScorer.levelShift.cap', /must be a finite number, got true/);
    expectInvalid({ sinks: { influx: 'http://x' } }, 'sinks.influx', /must be an object, got "http:\/\/x"/);
    expectInvalid({ ingest: { formats: { a: 'xml' } } }, 'ingest.formats.a', /one of avro, confluent, json, got "xml"/);
    expectInvalid({ ingest: { schemaIds: { x: 'a.avsc' } } }, 'ingest.schemaIds.x', /schema id/);
  });

  it('says the range of a number out of it', () => {
    expectInvalid({ kafka: { sessionTimeoutMs: 1_000 } }, 'kafka.sessionTimeoutMs', /must be between 6000 and 300000, got 1000/);
    expectInvalid({ ops: { http: { port: 70_000 } } }, 'ops.http.port', /between 0 and 65535, got 70000/);
    expectInvalid({ sinks: { retention: { raw: '30m' } } }, 'sinks.retention.raw', /a duration such as 30d.*got "30m"/);
    // Ranges the detect modules own, named at their full path.
    expectInvalid({ detect: { onsetScorer: { rangeNovelty: { minPoints: 0 } } } }, 'detect.onsetScorer.rangeNovelty.minPoints', /integer >= 1, got 0/);
    expectInvalid({ detect: { threshold: { calibration: { minStd: 0 } } } }, 'detect.threshold.calibration.minStd', /> 0/);
  });

  it('checks rules across keys and sections once each key is valid', () => {
    expectInvalid({ kafka: { heartbeatIntervalMs: 20_000 } }, 'kafka.heartbeatIntervalMs', /at most a third of kafka.sessionTimeoutMs \(30000\), got 20000/);
    expectInvalid({ stream: { maxFillSteps: 80 } }, 'detect.rules.flatline.minPoints', /must exceed stream.maxFillSteps \(80\)/);
    expectInvalid({ stack: { influxPort: 9092 } }, 'stack.kafkaPort', /must differ/);
    expectInvalid({ sinks: { influx: { batchSize: 100, maxBufferPoints: 10 } } }, 'sinks.influx.maxBufferPoints', /at least sinks.influx.batchSize \(100\)/);
    // A wrong key is reported without the rules its wrong value would trip.
    const e = expectInvalid({ kafka: { heartbeatIntervalMs: 20_000, sessionTimeoutMs: 'long' } }, 'kafka.sessionTimeoutMs', /must be an integer/);
    expect(e.message).not.toMatch(/a third/);
  });

  it('names the first issue (unknown keys first, then schema order) and lists every one', () => {
    const e = expectInvalid({ kafka: { clientId: '' }, stream: { windowLength: 1 }, log: { lvl: 'info' } }, 'log.lvl', /unknown key: did you mean level\?/);
    expect(e.message).toMatch(/and 2 more:\n {2}config kafka.clientId: must be a non-empty string, got ""\n {2}config stream.windowLength: must be between 2 and 65536, got 1$/);
    expectInvalid({ kafka: { clientId: '' }, stream: { windowLength: 1 } }, 'kafka.clientId', /and 1 more:/);
  });

  it('spells keys as paths and guesses typos', () => {
    expect(keyOf(['scorer', 'diffusion', 'models', 0, 'match'])).toBe('scorer.diffusion.models[0].match');
    expect(didYouMean('windowLenght', ['windowLength', 'hop'])).toBe('windowLength');
    expect(didYouMean('WINDOWLENGTH', ['windowLength'])).toBe('windowLength');
    expect(didYouMean('q', ['method', 'nInit'])).toBeUndefined();
  });
});

describe('config layers', () => {
  it('applies the environment over the file and overrides, and checks what it sets', () => {
    const c = loadConfig({
      overrides: { kafka: { groupId: 'from-file' }, scorer: { diffusion: { workers: 2 } } },
      env: { DIFFWATCH_GROUP_ID: 'g2', DIFFWATCH_TOPICS: 'a, b,', INFLUX_DATABASE: 'db_2', DIFFWATCH_MODEL_STORE: '/models', DIFFWATCH_STATE_TOPIC: 's', KAFKA_PORT: '19092', DIFFWATCH_LOG_LEVEL: 'warn' },
    });
    expect(c.kafka.groupId).toBe('g2');
    expect(c.kafka.topics).toEqual(['a', 'b']);
    expect(c.sinks.influx).toEqual({ ...DEFAULTS.sinks.influx, database: 'db_2' });
    expect(c.scorer.diffusion.modelStore).toBe('/models');
    expect(c.scorer.diffusion.workers).toBe(2); // the rest of the section stays
    expect(c.detect.stateTopic).toBe('s');
    expect(c.stack.kafkaPort).toBe(19_092);
    expect(c.log.level).toBe('warn');
    expectInvalid({}, 'log.level', /one of debug, info, warn, error, silent, got "verbose"/, { DIFFWATCH_LOG_LEVEL: 'verbose' });
    expectInvalid({}, 'sinks.influx.url', /http\(s\) URL/, { INFLUX_URL: 'influx:8086' });
  });

  it('DIFFWATCH_OPS_HTTP moves the HTTP endpoint (host:port) or turns it off', () => {
    const load = (v: string) => loadConfig({ overrides: { ops: { http: { host: '10.0.0.1', port: 1234 } } }, env: { DIFFWATCH_OPS_HTTP: v } }).ops.http;
    expect(load('0.0.0.0:0')).toEqual({ enabled: true, host: '0.0.0.0', port: 0 });
    expect(load('[::1]:9465')).toEqual({ enabled: true, host: '::1', port: 9465 });
    expect(load('off')).toEqual({ enabled: false, host: '10.0.0.1', port: 1234 });
    expect(loadConfig({ overrides: { ops: { http: { enabled: false } } }, env: { DIFFWATCH_OPS_HTTP: 'localhost:9000' } }).ops.http).toEqual({ enabled: true, host: 'localhost', port: 9000 });
    expectInvalid({}, 'ops.http', /DIFFWATCH_OPS_HTTP="9464" must be host:port .* or off/, { DIFFWATCH_OPS_HTTP: '9464' });
    expectInvalid({}, 'ops.http.port', /between 0 and 65535, got 99999/, { DIFFWATCH_OPS_HTTP: 'h:99999' });
  });

  it('freezes the result all the way down', () => {
    const c = loadConfig({ overrides: { detect: { rules: { outOfRange: { limits: { temp: { max: 90 } } } } } }, env: {} });
    for (const o of [c, c.kafka.topics, c.detect.onsetScorer.gate, c.detect.lifecycle.severity, c.detect.rules.outOfRange.limits.temp, c.scorer.diffusion.coldStart.training]) {
      expect(Object.isFrozen(o)).toBe(true);
    }
    expect(() => (c.kafka.topics as string[]).push('x')).toThrow(TypeError);
    expect(Object.isFrozen(DEFAULTS.kafka)).toBe(false); // loading freezes its own copy
  });

  it('takes the detect sections\' defaults from the modules that own them', () => {
    expect(DEFAULTS.detect.threshold).toEqual(THRESHOLD_STATE_DEFAULTS);
    expect(DEFAULTS.detect.onsetScorer).toEqual(ONSET_SCORER_DEFAULTS);
    expect(DEFAULTS.detect.lifecycle).toEqual(DEFAULT_LIFECYCLE_OPTIONS);
  });

  it('loads the shipped config file', () => {
    const c = loadConfig({ file: new URL('../../../config/diffwatch.json', import.meta.url).pathname, env: {} });
    expect(c.scorer.kind).toBe('diffusion');
  });
});
