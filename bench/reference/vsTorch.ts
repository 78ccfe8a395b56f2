/**
 * diffwatch's model on TF.js against the same model in PyTorch, at equal threads, in one run
 * (bench/reference/README.md):
 *
 *   npm run bench:vs-torch                              # 5 runs per figure, 1 and 2 threads, table
 *   npm run --silent bench:vs-torch -- --runs 3 --json > vs-torch.json
 *   npm run bench:vs-torch -- --model <checkpoint>      # a model written by `diffwatch train`
 *
 * 1. Sets up the Python environment when it is missing (setup.sh), writes the reference model
 *    (the defaults, random weights) or takes --model, and exports its weights with fixed inputs
 *    and the TF.js outputs (exportWeights.ts); check.py must reproduce them within 1e-4 of their
 *    scale, or the run stops.
 * 2. Runs the workloads round-robin, `--runs` times each, every run in a fresh process so that
 *    its thread settings hold from the start: tfjs-wasm (threads = scoring workers; it trains in
 *    one thread), tfjs-node (one worker, TF_NUM_INTRAOP_THREADS = threads) and PyTorch
 *    (torch.set_num_threads), each scoring `--batch` windows per call and training batch 64.
 *    The PyTorch process also measures the fp32 matrix-multiply ceiling (NumPy sgemm).
 * 3. Prints medians with min–max, the tfjs/PyTorch ratios, GFLOP/s (FLOPs counted from the shapes
 *    as bench/model.ts does) and the native backend's share of the sgemm ceiling.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger, setLogLevel } from '../../src/log.ts';
import { initBackend } from '../../src/model/backend.ts';
import { loadCheckpoint, type ModelManifest } from '../../src/model/checkpoint.ts';
import { leftReach } from '../../src/model/denoiser.ts';
import { forwardFlops } from '../flops.ts';
import { referenceRecord } from './exportWeights.ts';
import { writeReferenceModel } from './referenceModel.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1,2' },
    batch: { type: 'string', default: '256' },
    'train-steps': { type: 'string', default: '5' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const ROOT = path.resolve(import.meta.dirname, '../..');
const HERE = path.join(ROOT, 'bench/reference');
const PY = path.join(ROOT, '.cache/torch-ref/venv/bin/python');
const RUNS = Number(flags.runs);
const THREADS = flags.threads.split(',').map(Number);
const TARGET = { ratio: 1.0, ceilingShare: 0.3 };
const progress = (msg: string) => process.stderr.write(`${msg}\n`);
setLogLevel('warn');

type Framework = 'tfjs-wasm' | 'tfjs-node' | 'pytorch';
/** `label` names the row: the framework, and for tfjs-node with several workers their count. */
interface Config { framework: Framework; label: string; threads: number; train: boolean; command: string[]; env: Record<string, string> }
interface Spread { median: number; min: number; max: number; runs: number[] }
const spread = (xs: number[]): Spread => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1], runs: xs };
};

/** Run a command to completion; its stdout's last line is the JSON result. Throws with its stderr on failure. */
function runJson(command: string[], env: Record<string, string>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) return resolve(JSON.parse(last));
      reject(new Error(`vs-torch: ${command.join(' ')} exited with ${code}\n${err.slice(-2000)}${out.slice(-1000)}`));
    });
  });
}

function nativeAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

/** FLOPs of one scored window (tests × S × K net calls on the last R points) and of one training step. */
function modelFlops(m: ModelManifest) {
  const imp = m.imputation!;
  const R = Math.min(m.windowLength, leftReach(m.denoiser) + 1);
  const tests = imp.profileTest ? 2 : 1;
  const perWindow = tests * imp.steps * imp.draws * forwardFlops(m.denoiser, R);
  // A training step ≈ 3 forward passes (backward ≈ 2×) over whole windows.
  const perStep = m.training.batchSize * 3 * forwardFlops(m.denoiser, m.windowLength);
  return { R, tests, perWindow, perStep };
}

async function prepare(dir: string): Promise<{ modelDir: string; refFile: string; check: Record<string, any> }> {
  progress('== PyTorch environment (bench/reference/setup.sh)');
  const setup = spawnSync('bash', [path.join(HERE, 'setup.sh')], { stdio: ['ignore', 2, 2] });
  if (setup.status !== 0) throw new Error('vs-torch: the PyTorch environment could not be set up (see above); run npm run bench:vs-torch:setup');
  const modelDir = flags.model ?? path.join(dir, 'model');
  await initBackend('wasm', createLogger('bench'));
  if (!flags.model) await writeReferenceModel(modelDir);
  const model = await loadCheckpoint(modelDir);
  const refFile = path.join(dir, 'reference.json');
  try {
    await writeFile(refFile, JSON.stringify(referenceRecord(model)));
  } finally {
    model.dispose();
  }
  progress('== equivalence check (bench/reference/check.py)');
  const check = await runJson([PY, path.join(HERE, 'check.py'), refFile], {});
  progress(`   max relative difference ${check.results[check.worst].relative.toExponential(1)} (${check.worst}), tolerance ${check.tolerance}: OK`);
  return { modelDir, refFile, check };
}

function configs(modelDir: string, refFile: string, native: boolean): Config[] {
  const common = ['--seconds', flags.seconds, '--batch', flags.batch, '--train-steps', flags['train-steps']];
  const tfjs = [process.execPath, '--import', 'tsx', path.join(HERE, 'tfjsWorkload.ts'), '--model', modelDir, ...common];
  return THREADS.flatMap((n): Config[] => {
    const threadEnv = { OMP_NUM_THREADS: `${n}`, MKL_NUM_THREADS: `${n}`, OPENBLAS_NUM_THREADS: `${n}` };
    return [
      // One wasm worker computes in one thread, and training runs in one thread only.
      { framework: 'tfjs-wasm', label: 'tfjs-wasm', threads: n, train: n === 1, command: [...tfjs, '--backend', 'wasm', '--workers', `${n}`, ...(n === 1 ? [] : ['--no-train'])], env: {} },
      ...(native
        ? [
            { framework: 'tfjs-node' as const, label: 'tfjs-node', threads: n, train: true, command: [...tfjs, '--backend', 'tensorflow', '--workers', '1'], env: { ...threadEnv, TF_NUM_INTRAOP_THREADS: `${n}`, TF_NUM_INTEROP_THREADS: '1' } },
            // The service's layout: one scoring worker per core, each libtensorflow with one intra-op thread.
            ...(n > 1 ? [{ framework: 'tfjs-node' as const, label: `tfjs-node ${n}w`, threads: n, train: false, command: [...tfjs, '--backend', 'tensorflow', '--workers', `${n}`, '--no-train'], env: { OMP_NUM_THREADS: '1', TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' } }] : []),
          ]
        : []),
      { framework: 'pytorch', label: 'pytorch', threads: n, train: true, command: [PY, path.join(HERE, 'workload.py'), '--reference', refFile, '--threads', `${n}`, ...common], env: threadEnv },
      // libgomp's threads spin while they wait; on a shared machine a spinning thread whose partner was
      // descheduled wastes its core. Passive waiting is the usual remedy, so it is measured as well.
      ...(n > 1 ? [{ framework: 'pytorch' as const, label: 'pytorch passive', threads: n, train: true, command: [PY, path.join(HERE, 'workload.py'), '--reference', refFile, '--threads', `${n}`, ...common], env: { ...threadEnv, OMP_WAIT_POLICY: 'PASSIVE' } }] : []),
    ];
  });
}

const loadStart = os.loadavg();
const dir = await mkdtemp(path.join(os.tmpdir(), 'diffwatch-vs-torch-'));
let report: Record<string, any>;
try {
  const { modelDir, refFile, check } = await prepare(dir);
  const manifest = JSON.parse(await readFile(path.join(modelDir, 'manifest.json'), 'utf8')) as ModelManifest;
  const flops = modelFlops(manifest);
  const native = nativeAvailable();
  const list = configs(modelDir, refFile, native);
  const results = new Map<Config, Record<string, any>[]>(list.map((c) => [c, []]));
  const loads: number[] = [];
  for (let r = 1; r <= RUNS; r++) {
    for (const c of list) {
      progress(`== run ${r}/${RUNS}: ${c.label}, ${c.threads} thread${c.threads > 1 ? 's' : ''} (load ${os.loadavg()[0].toFixed(2)})`);
      loads.push(os.loadavg()[0]);
      results.get(c)!.push(await runJson(c.command, c.env));
    }
  }
  const rows = list.map((c) => {
    const rs = results.get(c)!;
    const scoring = spread(rs.map((x) => x.scoring.windowsPerSec));
    const training = c.train ? spread(rs.map((x) => x.training.stepsPerSec)) : null;
    return {
      framework: c.framework, label: c.label, threads: c.threads, scoring, training,
      scoringGflops: (scoring.median * flops.perWindow) / 1e9, trainingGflops: training ? (training.median * flops.perStep) / 1e9 : null,
      cpuShare: { scoring: spread(rs.map((x) => x.scoring.cpuShare)).median, training: c.train ? spread(rs.map((x) => x.training.cpuShare)).median : null },
      ...(c.framework === 'pytorch' ? { sgemm: { n: rs[0].gemm.n, numpy: spread(rs.map((x) => x.gemm.gflops.numpy)), torch: spread(rs.map((x) => x.gemm.gflops.torch)) }, versions: { torch: rs[0].torch, numpy: rs[0].numpy } } : {}),
      ...(c.framework === 'tfjs-wasm' || c.framework === 'tfjs-node' ? { conv: rs[0].scoring.conv } : {}),
    };
  });
  // The reference at n threads: the faster PyTorch row (spinning or passive OpenMP waits) of each figure.
  const torchRows = (n: number) => rows.filter((x) => x.framework === 'pytorch' && x.threads === n);
  const torchBest = (n: number, key: 'scoring' | 'training') => Math.max(...torchRows(n).map((x) => x[key]?.median ?? 0));
  const ratios = rows.filter((x) => x.framework !== 'pytorch').map((x) => ({
    label: x.label, threads: x.threads, scoring: x.scoring.median / torchBest(x.threads, 'scoring'), training: x.training ? x.training.median / torchBest(x.threads, 'training') : null,
  }));
  const ceiling = THREADS.map((n) => {
    const ts = torchRows(n);
    const nat = rows.find((x) => x.label === 'tfjs-node' && x.threads === n);
    const sgemm = spread(ts.flatMap((t) => t.sgemm!.numpy.runs)).median;
    return { threads: n, sgemmGflops: sgemm, torchMmGflops: spread(ts.flatMap((t) => t.sgemm!.torch.runs)).median, nativeScoringGflops: nat?.scoringGflops ?? null, nativeScoringShare: nat ? nat.scoringGflops / sgemm : null, nativeTrainingShare: nat?.trainingGflops ? nat.trainingGflops / sgemm : null, pytorchScoringShare: torchBest(n, 'scoring') * flops.perWindow / 1e9 / sgemm };
  });
  const best = (key: 'scoring' | 'training') => Math.max(...ratios.map((x) => x[key] ?? 0));
  report = {
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadavgStart: loadStart, loadavgEnd: os.loadavg(), load1DuringRuns: spread(loads) },
    settings: { runs: RUNS, seconds: Number(flags.seconds), threads: THREADS, scoringBatch: Number(flags.batch), trainBatch: manifest.training.batchSize, model: flags.model ?? 'defaults, random weights' },
    model: { windowLength: manifest.windowLength, channels: manifest.channels.length, denoiser: manifest.denoiser, imputation: { steps: manifest.imputation!.steps, draws: manifest.imputation!.draws, calendar: !!manifest.imputation!.calendar, profileTest: !!manifest.imputation!.profileTest } },
    flops: { scoredPoints: flops.R, netCallsPerChunk: flops.tests * manifest.imputation!.steps, perScoredWindow: flops.perWindow, perTrainingStep: flops.perStep },
    check,
    native: native ? 'available' : 'unavailable: run npm run native:setup',
    rows, ratios, ceiling,
    targets: {
      ratio: { target: TARGET.ratio, bestScoring: best('scoring'), bestTraining: best('training'), met: native && THREADS.every((n) => ratios.some((x) => x.label.startsWith('tfjs-node') && x.threads === n && x.scoring >= TARGET.ratio) && ratios.some((x) => x.label.startsWith('tfjs-node') && x.threads === n && (x.training ?? 0) >= TARGET.ratio)) },
      ceilingShare: { target: TARGET.ceilingShare, native: ceiling.map((c) => c.nativeScoringShare), met: native && ceiling.every((c) => (c.nativeScoringShare ?? 0) >= TARGET.ceilingShare) },
    },
  };
} finally {
  await rm(dir, { recursive: true, force: true });
}

// With --json the table goes to stderr, so that one run gives both.
if (flags.json) console.log(JSON.stringify(report, null, 2));
printTable(report, flags.json ? (line) => process.stderr.write(`${line}\n`) : (line) => console.log(line));

function printTable(r: Record<string, any>, print: (line: string) => void): void {
  const n = (x: number, d = 0) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const fig = (s: Spread | null, d: number) => (s ? `${n(s.median, d)} (${n(s.min, d)}–${n(s.max, d)})` : 'n/a');
  const { model: m, flops: f } = r;
  print(`model: L=${m.windowLength} C=${m.channels} width=${m.denoiser.width} depth=${m.denoiser.depth} K=${m.denoiser.kernelSize}, imputation S=${m.imputation.steps} × K=${m.imputation.draws}${m.imputation.profileTest ? ' × 2 tests' : ''} on the last ${f.scoredPoints} points: ${n(f.perScoredWindow / 1e6, 2)} MFLOP per scored window, ${n(f.perTrainingStep / 1e9, 2)} GFLOP per training step (batch ${r.settings.trainBatch})`);
  print(`check: torch ${r.check.torch} reproduces TF.js (${r.check.tfjsBackend}) within ${r.check.results[r.check.worst].relative.toExponential(1)} of scale (worst: ${r.check.worst}; tolerance ${r.check.tolerance})`);
  print(`machine: ${r.machine.cpus} × ${r.machine.cpu}, node ${r.machine.node}; load ${r.machine.loadavgStart.map((x: number) => x.toFixed(2)).join(' ')} → ${r.machine.loadavgEnd.map((x: number) => x.toFixed(2)).join(' ')}; medians of ${r.settings.runs} runs (min–max)\n`);
  print('threads  framework        scoring windows/s (batch ' + r.settings.scoringBatch + ')   × torch   GFLOP/s   train steps/s           × torch   GFLOP/s   CPU share score/train');
  for (const row of r.rows) {
    const ratio = r.ratios.find((x: any) => x.label === row.label && x.threads === row.threads);
    print(
      `${String(row.threads).padEnd(9)}${row.label.padEnd(17)}${fig(row.scoring, 0).padEnd(28)}${(ratio ? `${n(ratio.scoring, 2)}×` : '').padEnd(10)}${n(row.scoringGflops, 2).padEnd(10)}` +
        `${fig(row.training, 2).padEnd(24)}${(ratio?.training != null ? `${n(ratio.training, 2)}×` : '').padEnd(10)}${(row.trainingGflops != null ? n(row.trainingGflops, 2) : '').padEnd(10)}${n(row.cpuShare.scoring, 2)} / ${row.cpuShare.training != null ? n(row.cpuShare.training, 2) : '-'}`,
    );
  }
  if (r.native !== 'available') print(`${' '.repeat(9)}tfjs-node        ${r.native}`);
  print('');
  for (const c of r.ceiling) {
    print(`${c.threads} thread${c.threads > 1 ? 's' : ''}: sgemm ceiling ${n(c.sgemmGflops, 1)} GFLOP/s (NumPy, n = ${r.rows.find((x: any) => x.sgemm).sgemm.n}; torch.mm ${n(c.torchMmGflops, 1)}); native scoring ${c.nativeScoringGflops != null ? `${n(c.nativeScoringGflops, 2)} GFLOP/s = ${n(100 * c.nativeScoringShare, 1)} %` : 'unavailable'}, PyTorch scoring (the faster row) ${n(100 * c.pytorchScoringShare, 1)} %`);
  }
  const t = r.targets;
  const nodeRatios = r.ratios.filter((x: any) => x.label.startsWith('tfjs-node')).map((x: any) => `${x.label} ${x.threads}t: scoring ${n(x.scoring, 2)}×${x.training != null ? `, training ${n(x.training, 2)}×` : ''}`);
  print(`\ntargets: tfjs-node ≥ ${t.ratio.target}× PyTorch at equal threads, scoring and training: ${t.ratio.met ? 'met' : 'not met'} (${nodeRatios.join('; ') || r.native})`);
  print(`         native scoring ≥ ${100 * t.ceilingShare.target} % of the sgemm ceiling: ${t.ceilingShare.met ? 'met' : 'not met'}`);
}
