/**
 * The normal series of a case, before any anomaly: the training part and the test part drawn
 * together, so the test part continues the same process.
 *
 * - `univariate`: one analogue channel, `value`.
 * - `multivariate`: three analogue channels, `commandChannels` binary commands and
 *   `constantChannels` constants:
 *     a1      the main channel, where the single-channel anomalies go
 *     a2      follows a1's cycle with its own gain and noise (the pair a correlation break splits)
 *     resp    the response to cmd00: first-order lag of cmd00 delayed by `responseLag` rows
 *     cmd00   pulses of 12–36 rows every 40–160 rows (what drives resp)
 *     cmdNN   random telegraph flags, each with its own switching rate
 *     constK  a setpoint that never changes
 * - `fleet`: the layout of a server or a plant with many unrelated sensors: the main channel `a1`,
 *   `unrelatedChannels` analogue channels that share nothing with it or with each other, a few
 *   binary flags and constants. Each unrelated channel is a cycle of its own period (not a
 *   divisor of the day, so the phases of the channels never line up the same way twice) or a slow
 *   mean-reverting drift, with its own noise. The combination of their phases in the test part
 *   is one the fit part never showed: a detector that predicts a1 from the other channels reads
 *   a relation that holds only over its training stretch.
 */
import { partRows, type SyntheticKnobs } from './knobs.ts';
import { intIn, streamRng, uniform, type Rng } from './rngStreams.ts';
import { gaussians } from './rngStreams.ts';
import { makeWave, renderWave, type Wave } from './wave.ts';

export type Layout = 'univariate' | 'multivariate' | 'fleet';
export const LAYOUTS: readonly Layout[] = ['univariate', 'multivariate', 'fleet'];

/** a2 = offset + unit · (gain · (a1's daily + weekly) + noise). */
export interface CoupledChannel {
  wave: Wave;
  gain: number;
}

/** resp = offset + unit · (gain · y[t] + noise[t]), y[t] = y[t−1] + α (cmd[t − lag] − y[t−1]). */
export interface CommandResponse {
  command: number;
  response: number;
  /** The command's pulses, [first row, last row]. */
  pulses: [number, number][];
  offset: number;
  unit: number;
  /** Response to a command held on, σ. */
  gain: number;
  noise: Float64Array;
}

export interface BaseSeries {
  layout: Layout;
  caseIndex: number;
  channels: string[];
  timestamps: Float64Array;
  /** Row-major `[N, C]`. */
  values: Float64Array;
  rows: ReturnType<typeof partRows>;
  main: Wave;
  coupled?: CoupledChannel;
  command?: CommandResponse;
}

export function makeBaseSeries(seed: number, layout: Layout, caseIndex: number, k: Readonly<SyntheticKnobs>): BaseSeries {
  const rows = partRows(k);
  const N = rows.total;
  const rng = streamRng(seed, layout, caseIndex, 'base');
  const timestamps = Float64Array.from({ length: N }, (_, t) => k.startMs + t * k.stepMs);
  if (layout === 'univariate') {
    const main = makeWave(rng, 0, N, k);
    const values = new Float64Array(N);
    renderWave(main, values, 1);
    return { layout, caseIndex, channels: ['value'], timestamps, values, rows, main };
  }
  if (layout === 'fleet') return fleetSeries(caseIndex, k, rng, timestamps, rows);
  const cmds = Array.from({ length: k.commandChannels }, (_, i) => `cmd${String(i).padStart(2, '0')}`);
  const consts = Array.from({ length: k.constantChannels }, (_, i) => `const${i}`);
  const channels = ['a1', 'a2', 'resp', ...cmds, ...consts];
  const C = channels.length;
  const values = new Float64Array(N * C);
  const main = makeWave(rng, 0, N, k);
  const coupled = coupledTo(main, rng, N);
  renderWave(main, values, C);
  renderCoupled(coupled, main, values, C, 0, N);
  const command: CommandResponse = { command: 3, response: 2, pulses: pulses(rng, N), offset: uniform(rng, 5, 15), unit: uniform(rng, 0.2, 1), gain: 6, noise: gaussians(rng, N) };
  writeColumn(values, C, command.command, pulseColumn(command.pulses, N));
  renderResponse(command, values, C, k, command.pulses);
  for (let i = 1; i < k.commandChannels; i++) writeColumn(values, C, 3 + i, telegraph(rng, N, rows.fit));
  for (let i = 0; i < k.constantChannels; i++) writeColumn(values, C, 3 + k.commandChannels + i, new Float64Array(N).fill(Math.round(uniform(rng, 1, 500))));
  return { layout, caseIndex, channels, timestamps, values, rows, main, coupled, command };
}

/** Cycles per day of the unrelated channels: none divides the day or another's period evenly. */
const FLEET_CYCLES = [0.43, 2.3, 3.7, 6.1, 1.37, 0.71];
const FLEET_FLAGS = 4;
const FLEET_CONSTANTS = 2;

function fleetSeries(caseIndex: number, k: Readonly<SyntheticKnobs>, rng: Rng, timestamps: Float64Array, rows: ReturnType<typeof partRows>): BaseSeries {
  const N = rows.total;
  const U = k.unrelatedChannels;
  const unrelated = Array.from({ length: U }, (_, i) => `u${i + 1}`);
  const flags = Array.from({ length: FLEET_FLAGS }, (_, i) => `flag${i}`);
  const consts = Array.from({ length: FLEET_CONSTANTS }, (_, i) => `const${i}`);
  const channels = ['a1', ...unrelated, ...flags, ...consts];
  const C = channels.length;
  const values = new Float64Array(N * C);
  const main = makeWave(rng, 0, N, k);
  renderWave(main, values, C);
  // Every third unrelated channel drifts; the others cycle at a period of their own.
  for (let i = 0; i < U; i++) writeColumn(values, C, 1 + i, i % 3 === 2 ? drift(rng, N) : cycle(rng, N, FLEET_CYCLES[i % FLEET_CYCLES.length] * (1 + 0.1 * Math.floor(i / FLEET_CYCLES.length)), k));
  for (let i = 0; i < FLEET_FLAGS; i++) writeColumn(values, C, 1 + U + i, telegraph(rng, N, rows.fit));
  for (let i = 0; i < FLEET_CONSTANTS; i++) writeColumn(values, C, 1 + U + FLEET_FLAGS + i, new Float64Array(N).fill(Math.round(uniform(rng, 1, 500))));
  return { layout: 'fleet', caseIndex, channels, timestamps, values, rows, main };
}

/** offset + unit · (A · sin(2π f t / day + φ) + noise): a cycle of f per day, A in 2–6 σ. */
function cycle(rng: Rng, N: number, cyclesPerDay: number, k: Readonly<SyntheticKnobs>): Float64Array {
  const [A, phase, offset, unit] = [uniform(rng, 2, 6), uniform(rng, 0, 2 * Math.PI), uniform(rng, 20, 80), uniform(rng, 0.5, 2)];
  const noise = gaussians(rng, N);
  return Float64Array.from({ length: N }, (_, t) => offset + unit * (A * Math.sin(phase + (2 * Math.PI * cyclesPerDay * t) / k.pointsPerDay) + noise[t]));
}

/** offset + unit · (d[t] + noise), d an AR(1) with φ = 0.995 (a half-life of ln 2 / −ln φ ≈ 138 rows, about 11.5 h at 5 min) and a stationary std of 3 σ. */
function drift(rng: Rng, N: number): Float64Array {
  const [offset, unit, phi] = [uniform(rng, 20, 80), uniform(rng, 0.5, 2), 0.995];
  const step = gaussians(rng, N);
  const noise = gaussians(rng, N);
  const innovation = 3 * Math.sqrt(1 - phi * phi);
  let d = 3 * step[0];
  return Float64Array.from({ length: N }, (_, t) => {
    if (t > 0) d = phi * d + innovation * step[t];
    return offset + unit * (d + noise[t]);
  });
}

function coupledTo(main: Wave, rng: Rng, N: number): CoupledChannel {
  const gain = uniform(rng, 0.6, 1);
  const wave: Wave = { ...main, channel: 1, offset: uniform(rng, 20, 80), unit: uniform(rng, 0.5, 2), noise: gaussians(rng, N) };
  return { wave, gain };
}

/** Writes a2 over rows [from, to) from `driver`'s daily and weekly parts (a1's, or a broken copy). */
export function renderCoupled(c: CoupledChannel, driver: Pick<Wave, 'daily' | 'weekly'>, values: Float64Array, C: number, from: number, to: number): void {
  const w = c.wave;
  for (let t = from; t < to; t++) values[t * C + w.channel] = w.offset + w.unit * (c.gain * (driver.daily[t] + driver.weekly[t]) + w.noise[t]);
}

/** Writes resp as the response to `heard`: the pulses the response actually follows. */
export function renderResponse(cr: CommandResponse, values: Float64Array, C: number, k: Readonly<SyntheticKnobs>, heard: readonly [number, number][]): void {
  const cmd = pulseColumn(heard, values.length / C);
  let y = 0;
  for (let t = 0; t < cmd.length; t++) {
    y += k.responseAlpha * ((t >= k.responseLag ? cmd[t - k.responseLag] : 0) - y);
    values[t * C + cr.response] = cr.offset + cr.unit * (cr.gain * y + cr.noise[t]);
  }
}

export function pulseColumn(ps: readonly [number, number][], N: number): Float64Array {
  const col = new Float64Array(N);
  for (const [a, b] of ps) col.fill(1, a, b + 1);
  return col;
}

function pulses(rng: Rng, N: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = intIn(rng, 10, 60); t < N - 40; ) {
    const len = intIn(rng, 12, 36);
    out.push([t, t + len - 1]);
    t += len + intIn(rng, 40, 160);
  }
  return out;
}

/** A flag that switches with its own rate; forced to show both values inside the fit rows. */
function telegraph(rng: Rng, N: number, fitRows: number): Float64Array {
  const p = 10 ** uniform(rng, -2.7, -1.3);
  const col = new Float64Array(N);
  let v = rng() < 0.5 ? 0 : 1;
  for (let t = 0; t < N; t++) {
    if (rng() < p) v = 1 - v;
    col[t] = v;
  }
  if (col.subarray(0, fitRows).every((x) => x === col[0])) {
    const a = intIn(rng, 0, fitRows - 50);
    for (let t = a; t < a + intIn(rng, 5, 40); t++) col[t] = 1 - col[t];
  }
  return col;
}

function writeColumn(values: Float64Array, C: number, c: number, col: Float64Array): void {
  for (let t = 0; t < col.length; t++) values[t * C + c] = col[t];
}
