/**
 * What one scoring call costs, by the number of windows in it: `scoreWindows` on a checkpoint, in
 * this thread, with a grouped net run as separate nets and as one block-diagonal net
 * (denoiser.ts, `groupForm`), alternating within each run so that both see the same load.
 *
 *   npm run bench:score-call                                   # the e2e benchmark's 8-channel model, wasm
 *   npm run bench:score-call -- --backends wasm,tensorflow --batches 1,4,16,64,128,256 --runs 7 --json
 *   npm run bench:score-call -- --model <checkpoint dir>
 *
 * Without `--model` it uses (and trains once, cached) the model of `npm run bench:e2e` for 8
 * channels: 8 unrelated sines, so 8 groups of width 12. Windows are sines with the checkpoint's
 * channel count, 1 s apart. Each figure is the median of `--runs` calls after one warm-up call;
 * the kernel count is that of one call (`tf.profile`), the load average is printed beside it.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../src/log.ts';
import { initBackend, type BackendName } from '../src/model/backend.ts';
import { loadCheckpoint, type TrainedModel } from '../src/model/checkpoint.ts';
import { scoreWindows } from '../src/model/windowScorer.ts';
import { listFlag, median } from './common.ts';
import { benchModel } from './e2e/trainModel.ts';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    backends: { type: 'string', default: 'wasm' },
    batches: { type: 'string', default: '1,4,16,64,256' },
    runs: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const RUNS = Number(flags.runs);
const FORMS = ['separate', 'blockDiagonal'] as const;
type Form = (typeof FORMS)[number];
setLogLevel('warn');

interface Row {
  backend: string;
  batch: number;
  form: Form;
  ms: number;
  msPerWindow: number;
  kernels: number;
  load1: number;
}

/** B windows `[B, L, C]` of sines and their timestamps `[B, L]`. */
function windows(model: TrainedModel, B: number): { w: Float32Array; timestamps: Float64Array } {
  const { windowLength: L, channels } = model.manifest;
  const C = channels.length;
  const w = new Float32Array(B * L * C);
  const timestamps = new Float64Array(B * L);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < L; i++) {
      timestamps[b * L + i] = 1_700_000_000_000 + (b + i) * 1000;
      for (let c = 0; c < C; c++) w[(b * L + i) * C + c] = Math.sin((b + i) / (10 + c));
    }
  }
  return { w, timestamps };
}

async function measure(model: TrainedModel, backend: string, B: number): Promise<Row[]> {
  const { w, timestamps } = windows(model, B);
  const call = (form: Form) => {
    model.denoiser.groupForm = form;
    const t0 = performance.now();
    scoreWindows(model, w, B, { timestamps });
    return performance.now() - t0;
  };
  const times: Record<Form, number[]> = { separate: [], blockDiagonal: [] };
  for (const form of FORMS) call(form);
  for (let r = 0; r < RUNS; r++) for (const form of FORMS) times[form].push(call(form));
  const rows: Row[] = [];
  for (const form of FORMS) {
    model.denoiser.groupForm = form;
    const kernels = (await tf.profile(() => void scoreWindows(model, w, B, { timestamps }))).kernels.length;
    const ms = median(times[form]);
    rows.push({ backend, batch: B, form, ms, msPerWindow: ms / B, kernels, load1: os.loadavg()[0] });
  }
  model.denoiser.groupForm = 'separate';
  return rows;
}

const dir = flags.model ?? (await benchModel(8, 64));
const rows: Row[] = [];
for (const backend of listFlag(flags.backends)) {
  await initBackend(backend as BackendName, createLogger('bench'));
  const model = await loadCheckpoint(dir);
  if (!model.manifest.denoiser.groups) console.error('this checkpoint has no channel groups: both forms are the same net');
  model.denoiser.fuseGroups();
  for (const B of listFlag(flags.batches).map(Number)) {
    for (const row of await measure(model, backend, B)) {
      rows.push(row);
      if (!flags.json) console.log(`${backend.padEnd(10)} batch ${String(B).padStart(3)} ${row.form.padEnd(13)}: ${row.ms.toFixed(1).padStart(7)} ms, ${row.msPerWindow.toFixed(2).padStart(6)} ms/window, ${row.kernels} kernels (load ${row.load1.toFixed(2)})`);
    }
  }
  model.dispose();
}
if (flags.json) console.log(JSON.stringify({ model: dir, runs: RUNS, loadavg: os.loadavg(), rows }, null, 2));
