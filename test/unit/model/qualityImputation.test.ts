/**
 * Quality of imputation scoring on contextual anomalies: a point kσ away from what is normal at
 * its phase, but inside the series' overall range, where a whole-window reconstruction keeps much
 * of the anomaly and scores it low (docs/model.md, "Imputation scoring"). A trained model must
 * separate 5σ contextual spikes from normal points; the same network before training must not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTrainedModel, type TrainedModel } from '../../../src/model/checkpoint.ts';
import { Denoiser } from '../../../src/model/denoiser.ts';
import { rocAuc } from '../../../src/model/rocAuc.ts';
import { train } from '../../../src/model/trainer.ts';
import { scoreWindows } from '../../../src/model/windowScorer.ts';
import { gatherWindows, windowStarts, windowTimestamps } from '../../../src/model/windows.ts';
import { mulberry32 } from '../../../src/random.ts';
import { useBackend } from './helpers.ts';

const PERIOD = 96;
const NOISE = 0.05;
const FIT = 2_000;
const TEST = 2_000;
const L = 32;
const clean = (i: number) => Math.sin((2 * Math.PI * i) / PERIOD) + 0.5 * Math.sin((4 * Math.PI * i) / PERIOD);

/** The series and the rows of its test part that carry a +kσ spike, each inside the clean range. */
function contextualSpikes(k: number, seed: number): { x: Float64Array; spikes: number[] } {
  const rng = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const x = Float64Array.from({ length: FIT + TEST }, (_, i) => clean(i) + NOISE * gauss());
  const spikes: number[] = [];
  for (let i = FIT + L + 40; i < FIT + TEST - 40; i += 60 + Math.floor(rng() * 30)) {
    if (clean(i) + k * NOISE > 1.2) continue; // stay well inside the range (max of clean ≈ 1.3)
    x[i] = clean(i) + k * NOISE;
    spikes.push(i);
  }
  return { x, spikes };
}

/** One reading a minute: the period of 96 rows is not a day, so the calendar features carry no phase. */
const TIMESTAMPS = Float64Array.from({ length: FIT + TEST }, (_, i) => Date.UTC(2024, 0, 1) + i * 60_000);

function spikeAuc(model: TrainedModel, x: Float64Array, spikes: number[]): number {
  const starts = windowStarts(x.length, L, 1).filter((s) => s + L - 1 >= FIT);
  const scores = scoreWindows(model, gatherWindows(x, 1, L, starts), starts.length, { timestamps: windowTimestamps(TIMESTAMPS, L, starts) }).windowScores;
  const newest = starts.map((s) => s + L - 1);
  // Normal rows: away from every spike (a spike in the context may raise the next rows' scores).
  const pos = newest.flatMap((row, w) => (spikes.includes(row) ? [scores[w]] : []));
  const neg = newest.flatMap((row, w) => (spikes.every((s) => row < s || row > s + L) ? [scores[w]] : []));
  return rocAuc(Float32Array.from(pos), Float32Array.from(neg));
}

describe('imputation scoring quality: contextual spikes', () => {
  let model: TrainedModel;
  const { x, spikes } = contextualSpikes(5, 11);

  beforeAll(async () => {
    await useBackend('wasm');
    // The shipped imputation settings; only the net's size is set here. 1.4 days of training rows
    // are too few to learn a calendar (calendar.ts, CALENDAR_MIN_DAYS), so the model has none; its
    // profile test is calibrated on validation (profileCalibration.ts) and must not drown the spikes.
    model = await train({ values: x.slice(0, FIT), channels: ['v'], timestamps: TIMESTAMPS.slice(0, FIT) }, { windowLength: L, width: 32, depth: 3, epochs: 15, patience: 5, seed: 1 });
    expect(model.manifest.imputation).toMatchObject({ profileTest: true, profileSpan: 16 });
    expect(model.manifest.imputation!.calendar).toBeUndefined();
    expect(model.manifest.training.calendar).toBe(false);
  }, 240_000);
  afterAll(() => model?.dispose());

  it('a trained model ranks 5σ in-range spikes above normal points (AUC ≥ 0.9); its untrained network does not (< 0.75)', () => {
    expect(spikes.length).toBeGreaterThan(15);
    const trained = spikeAuc(model, x, spikes);
    const net = new Denoiser(model.manifest.denoiser); // the same seed: the weights training started from
    const before = makeTrainedModel(model.manifest, net);
    const untrained = spikeAuc(before, x, spikes);
    net.dispose();
    expect(trained, `trained AUC ${trained.toFixed(3)}`).toBeGreaterThanOrEqual(0.9);
    expect(untrained, `untrained AUC ${untrained.toFixed(3)}`).toBeLessThan(0.75);
  });
});

/**
 * The spacecraft and PLC layout: one analogue channel beside 24 binary command channels that are
 * mostly 0 and pulse now and then, none of them driving the analogue channel. Before commands were
 * screened and their novelty bounded, such a model gave almost every point the same score (its
 * validation p50 equal to its p99). The net must read none of these commands and keep a graded
 * score that still ranks contextual spikes high.
 */
describe('imputation scoring quality: one analogue channel beside 24 idle commands', () => {
  const COMMANDS = 24;
  const C = 1 + COMMANDS;
  let model: TrainedModel;
  const { x, spikes } = contextualSpikes(5, 12);
  const rng = mulberry32(13);
  /** `[N, C]`: the series, then 24 flags, each 0 but for pulses of 3-10 rows with its own rarity. */
  const values = new Float64Array((FIT + TEST) * C);
  for (let i = 0; i < FIT + TEST; i++) values[i * C] = x[i];
  for (let c = 1; c < C; c++) {
    const rate = 0.002 + 0.004 * rng();
    for (let i = 0; i < FIT + TEST; i++) {
      if (rng() >= rate) continue;
      const len = 3 + Math.floor(rng() * 8);
      for (let j = i; j < Math.min(FIT + TEST, i + len); j++) values[j * C + c] = 1;
    }
  }
  const channels = ['v', ...Array.from({ length: COMMANDS }, (_, k) => `cmd${k}`)];

  function spikeAucOf(m: TrainedModel): number {
    const starts = windowStarts(FIT + TEST, L, 1).filter((s) => s + L - 1 >= FIT);
    const scores = scoreWindows(m, gatherWindows(values, C, L, starts), starts.length, { timestamps: windowTimestamps(TIMESTAMPS, L, starts) }).windowScores;
    const newest = starts.map((s) => s + L - 1);
    const pos = newest.flatMap((row, w) => (spikes.includes(row) ? [scores[w]] : []));
    const neg = newest.flatMap((row, w) => (spikes.every((s) => row < s || row > s + L) ? [scores[w]] : []));
    return rocAuc(Float32Array.from(pos), Float32Array.from(neg));
  }

  beforeAll(async () => {
    await useBackend('wasm');
    model = await train({ values: values.slice(0, FIT * C), channels, timestamps: TIMESTAMPS.slice(0, FIT) }, { windowLength: L, width: 32, depth: 3, epochs: 15, patience: 5, seed: 1 });
  }, 240_000);
  afterAll(() => model?.dispose());

  it('reads none of the commands, so its net is the one-channel net; its 5σ spikes rank above normal points (AUC ≥ 0.9), its untrained network\'s do not (< 0.6)', () => {
    const imp = model.manifest.imputation!;
    expect(imp.targets).toEqual([true, ...Array(COMMANDS).fill(false)]);
    expect(imp.reads).toEqual(Array(C).fill(false).map((_, c) => c === 0));
    expect(model.manifest.denoiser).toMatchObject({ channels: 1, condChannels: 2 });
    const q = model.manifest.validationScores;
    expect(q.p99, `validation p50 ${q.p50}, p99 ${q.p99}`).toBeGreaterThan(2 * q.p50);
    // Measured (seeds 1 and 2): 0.990 and 0.999; the analogue channel alone gives 0.998 and 0.993.
    // While the 24 commands were still inputs of the net, held constant, 0.709 and 0.894
    // (docs/tuning-log.md, variant 14).
    const trained = spikeAucOf(model);
    expect(trained, `trained AUC ${trained.toFixed(3)}`).toBeGreaterThanOrEqual(0.9);
    const net = new Denoiser(model.manifest.denoiser);
    const untrained = spikeAucOf(makeTrainedModel(model.manifest, net));
    net.dispose();
    expect(untrained, `untrained AUC ${untrained.toFixed(3)}`).toBeLessThan(0.6); // measured 0.416
  });
});
