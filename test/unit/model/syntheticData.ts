/**
 * Seeded synthetic telemetry for the model's quality test: three channels of a machine,
 *
 *   ch1 = sin(2π t / P1 + φ1) + N(0, σ²)
 *   ch2 = κ · ch1 + N(0, σ2²)          coupled: a second sensor on the same shaft
 *   ch3 = sin(2π t / P3 + φ3) + N(0, σ²)  independent, its own period
 *
 * the five anomalies the detector must separate from normal windows, each injected where the
 * streaming score sees it (`injectAnomaly`), and the held-out battery of normal and anomalous
 * episodes the quality test scores (`anomalyBattery`).
 *
 * Everything is a pure function of its seed, so every run sees the same numbers.
 */
import { seededRng, type Rng } from '../../../src/model/diffusion.ts';

/** The generating process; `t` counts rows from the start of time, so two series can continue each other. */
export const PROCESS = {
  /** Period of ch1 (and ch2), in rows. */
  p1: 20,
  /** Period of ch3, in rows; not a multiple of p1, so ch3 carries no information about ch1. */
  p3: 33,
  phase1: 0.3,
  phase3: 1.1,
  /** Noise std of ch1 and ch3, raw units (the sines have amplitude 1). */
  noise: 0.1,
  /** ch2 = coupling · ch1 + N(0, couplingNoise²). */
  coupling: 0.8,
  couplingNoise: 0.05,
} as const;

export const CHANNELS = ['ch1', 'ch2', 'ch3'];
const C = CHANNELS.length;

/** Standard normal draws from a uniform `Rng` (Box-Muller). */
export function gaussian(rng: Rng): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

const sine1 = (t: number) => Math.sin((2 * Math.PI * t) / PROCESS.p1 + PROCESS.phase1);
const sine3 = (t: number) => Math.sin((2 * Math.PI * t) / PROCESS.p3 + PROCESS.phase3);

export interface SyntheticSeries {
  /** Row-major `[N, 3]`. */
  values: Float64Array;
  channels: string[];
  /** Epoch ms, one row a minute. */
  timestamps: Float64Array;
  /** Row index (in process time) of row 0. */
  startRow: number;
}

/** `rows` rows of the process from row `startRow`, with noise from `seed`. */
export function coupledSines(rows: number, seed: number, startRow = 0): SyntheticSeries {
  const z = gaussian(seededRng(seed));
  const values = new Float64Array(rows * C);
  const timestamps = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = startRow + i;
    const ch1 = sine1(t) + PROCESS.noise * z();
    values[i * C] = ch1;
    values[i * C + 1] = PROCESS.coupling * ch1 + PROCESS.couplingNoise * z();
    values[i * C + 2] = sine3(t) + PROCESS.noise * z();
    timestamps[i] = Date.UTC(2024, 0, 1) + t * 60_000;
  }
  return { values, channels: [...CHANNELS], timestamps, startRow };
}

export const ANOMALY_KINDS = ['spike', 'levelShift', 'frequencyChange', 'flatline', 'correlationBreak'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/**
 * How strong and how long each anomaly is; sizes are raw units (amplitude-1 sines, noise 0.1).
 * `points` is how many of the newest points carry the anomaly, and so how many streaming
 * windows (hop 1) end inside it: the windows an episode is judged by (see `anomalyBattery`).
 */
export const INJECTION = {
  /** One point: ± this much on one channel. */
  spike: { min: 1.0, max: 1.5, points: 1 },
  /** The newest `points` of one channel move by ± this much. */
  levelShift: { min: 0.8, max: 1.2, points: 8 },
  /** The newest `points` of ch3 run at `factor` × its frequency, phase-continuous at the onset. */
  frequencyChange: { factor: 2.5, points: 16 },
  /** The newest `points` of one channel stick at the value of the point before (a stuck sensor: no noise). */
  flatline: { points: 12 },
  /** ch2 follows its own phase, `min`..`max` radians away from ch1's, over the whole stretch; judged by the newest `points` windows. */
  correlationBreak: { min: Math.PI / 2, max: (3 * Math.PI) / 2, points: 8 },
} as const;

/**
 * Inject one anomaly into a stretch `[n, 3]` (row-major, raw units, modified in place) that
 * starts at process row `t0`. Each goes into the stretch's newest rows, because the streaming
 * score is the newest point's (windowScorer.ts) and an episode is judged by the windows that end
 * inside the anomaly (`anomalyBattery`):
 *
 * - spike: the newest point of a random channel
 * - levelShift, flatline: the newest points of a random channel
 * - frequencyChange: the newest points of ch3 (the independent channel, so the coupling stays intact)
 * - correlationBreak: ch2 over the whole stretch, an amplitude-κ sine of ch1's period with its own
 *   phase and noise. Over the whole stretch, because a break that began inside a window would
 *   put a phase jump into ch2, a single-channel anomaly that needs no cross-channel knowledge to see.
 */
export function injectAnomaly(stretch: Float64Array, t0: number, kind: AnomalyKind, rng: Rng): void {
  const n = stretch.length / C;
  const at = (i: number, c: number) => i * C + c;
  const sign = rng() < 0.5 ? -1 : 1;
  const uniform = (min: number, max: number) => min + (max - min) * rng();
  const channel = Math.floor(rng() * C);
  switch (kind) {
    case 'spike':
      stretch[at(n - 1, channel)] += sign * uniform(INJECTION.spike.min, INJECTION.spike.max);
      return;
    case 'levelShift': {
      const { min, max, points } = INJECTION.levelShift;
      const shift = sign * uniform(min, max);
      for (let i = n - points; i < n; i++) stretch[at(i, channel)] += shift;
      return;
    }
    case 'frequencyChange': {
      const { factor, points } = INJECTION.frequencyChange;
      const onset = t0 + n - points;
      const phaseAtOnset = (2 * Math.PI * onset) / PROCESS.p3 + PROCESS.phase3;
      const z = gaussian(rng);
      for (let i = n - points; i < n; i++) {
        const dt = t0 + i - onset;
        stretch[at(i, 2)] = Math.sin(phaseAtOnset + (2 * Math.PI * factor * dt) / PROCESS.p3) + PROCESS.noise * z();
      }
      return;
    }
    case 'flatline': {
      const { points } = INJECTION.flatline;
      const stuck = stretch[at(n - points - 1, channel)];
      for (let i = n - points; i < n; i++) stretch[at(i, channel)] = stuck;
      return;
    }
    case 'correlationBreak': {
      const offset = uniform(INJECTION.correlationBreak.min, INJECTION.correlationBreak.max);
      const z = gaussian(rng);
      for (let i = 0; i < n; i++) {
        const own = Math.sin((2 * Math.PI * (t0 + i)) / PROCESS.p1 + PROCESS.phase1 + offset) + PROCESS.noise * z();
        stretch[at(i, 1)] = PROCESS.coupling * own + PROCESS.couplingNoise * z();
      }
      return;
    }
  }
}

/** Windows `[count, L, 3]` plus how they group into episodes. */
export interface Episodes {
  /** Row-major `[episodes · perEpisode, L, 3]`, raw units; episode e owns windows e·perEpisode … (e+1)·perEpisode − 1, oldest first. */
  windows: Float32Array;
  episodes: number;
  perEpisode: number;
}

export interface AnomalyBattery {
  windowLength: number;
  /** Clean episodes of the longest `points` (16) windows each; a kind with k points uses the newest k of each. */
  normal: Episodes;
  anomalous: Record<AnomalyKind, Episodes>;
}

/** The k windows (hop 1) ending at each of the last k rows of a stretch of L + k − 1 rows: `[k, L, 3]`. */
function trailingWindows(stretch: Float64Array, L: number, k: number): Float32Array {
  const out = new Float32Array(k * L * C);
  for (let j = 0; j < k; j++) out.set(stretch.subarray(j * C, (j + L) * C), j * L * C);
  return out;
}

/**
 * Held-out test episodes, as the stream would window them. An episode is a stretch of
 * L + k − 1 rows whose newest k rows carry the anomaly (k = `INJECTION[kind].points`), cut into
 * the k windows that end inside the anomaly. Normal episodes come from a clean series, anomalous
 * ones from another clean series (other noise, later rows) with one injection each. Stretches
 * are spaced so no two episodes share a row, and every row lies after `startRow`, so a model
 * trained on rows before it has seen none of them.
 */
export function anomalyBattery(o: { windowLength: number; normalEpisodes: number; anomalousEpisodes: number; startRow: number; seed: number }): AnomalyBattery {
  const L = o.windowLength;
  const longest = Math.max(...ANOMALY_KINDS.map((k) => INJECTION[k].points));
  const span = L + longest; // ≥ L + k − 1 rows per stretch, plus one row of spacing
  const clean = coupledSines(o.normalEpisodes * span, o.seed, o.startRow);
  const normal = new Float32Array(o.normalEpisodes * longest * L * C);
  for (let e = 0; e < o.normalEpisodes; e++) {
    normal.set(trailingWindows(clean.values.subarray(e * span * C, (e * span + L + longest - 1) * C), L, longest), e * longest * L * C);
  }
  const base = coupledSines(o.anomalousEpisodes * span, o.seed + 1, o.startRow + o.normalEpisodes * span);
  const anomalous = {} as Record<AnomalyKind, Episodes>;
  ANOMALY_KINDS.forEach((kind, i) => {
    const k = INJECTION[kind].points;
    const rng = seededRng(o.seed * 31 + i);
    const windows = new Float32Array(o.anomalousEpisodes * k * L * C);
    for (let e = 0; e < o.anomalousEpisodes; e++) {
      const stretch = base.values.slice(e * span * C, (e * span + L + k - 1) * C);
      injectAnomaly(stretch, base.startRow + e * span, kind, rng);
      windows.set(trailingWindows(stretch, L, k), e * k * L * C);
    }
    anomalous[kind] = { windows, episodes: o.anomalousEpisodes, perEpisode: k };
  });
  return { windowLength: L, normal: { windows: normal, episodes: o.normalEpisodes, perEpisode: longest }, anomalous };
}
