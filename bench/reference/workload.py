"""
One timed run of the PyTorch reference at a fixed thread count, for bench/reference/vsTorch.ts:
scoring windows/s (the default imputation score, score_chunk), training steps/s (Adam, the
imputation loss with the trainer's masks, and the EMA of the weights, as fitLoop does each step),
and this machine's fp32 matrix-multiply ceiling at the same thread count (NumPy's sgemm; torch.mm
for comparison). Prints one JSON object.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .cache/torch-ref/venv/bin/python bench/reference/workload.py \
        --reference .cache/torch-ref/reference.json --threads 1

Set the thread environment variables before the start, as vsTorch.ts does: NumPy's OpenBLAS reads
OPENBLAS_NUM_THREADS when it loads. With --profile, it prints torch.profiler's table of one scoring
call and one training step instead (the counterpart of profile.ts).
"""
import argparse
import contextlib
import json
import math
import time

import numpy as np
import torch

from check import array, load_net
from diffusion import CALENDAR_FEATURES, NoiseSchedule, calendar_features, imputation_loss, score_chunk

START_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC, as referenceModel.ts
STEP_MS = 60_000


def windows(n: int, L: int, seed: int):
    """Sines of random phase and period plus noise `[n, L, 1]` and their timestamps `[n, L]` (referenceModel.ts' shapes and spacing)."""
    rng = np.random.default_rng(seed)
    phase, period = rng.uniform(0, 2 * np.pi, (n, 1)), rng.uniform(16, 32, (n, 1))
    z = np.sin(phase + 2 * np.pi * np.arange(L)[None, :] / period) + 0.1 * (rng.random((n, L)) - 0.5)
    ts = START_MS + (np.arange(n)[:, None] * 17 + np.arange(L)[None, :]) * STEP_MS
    return z[:, :, None].astype(np.float32), ts.astype(np.float64)


def timed(fn, min_seconds: float, min_calls: int):
    """Calls fn back to back for at least min_seconds and min_calls: (calls, wall s, CPU s of the process)."""
    n, wall, cpu = 0, time.perf_counter(), time.process_time()
    while n < min_calls or time.perf_counter() - wall < min_seconds:
        fn()
        n += 1
    return n, time.perf_counter() - wall, time.process_time() - cpu


def bench_scoring(net, sched, imp, L: int, batch: int, noise, seconds: float) -> dict:
    z, ts = windows(batch, L, 1)
    with torch.inference_mode():
        run = lambda: score_chunk(net, sched, imp, z, ts, noise)
        out = run()
        if not np.isfinite(out['evidence']).all():
            raise SystemExit('workload: a non-finite score')
        run()
        n, wall, cpu = timed(run, seconds, 2)
    return {'windowsPerSec': n * batch / wall, 'calls': n, 'cpuShare': cpu / wall}


def bench_training(net, sched, imp, tr: dict, L: int, seconds: float, min_steps: int) -> dict:
    B = tr['batchSize']
    net.train()
    x0_np, ts = windows(B, L, 2)
    x0 = torch.from_numpy(x0_np)  # [B, L, 1]
    cal = torch.from_numpy(calendar_features(ts)) if imp.get('calendar') else None  # [B, L, 4]
    targets = np.array([1.0 if t else 0.0 for t in imp['targets']], np.float32)
    rng = np.random.default_rng(3)
    # tf.train.adam's defaults: beta 0.9 / 0.999, epsilon 1e-7.
    opt = torch.optim.Adam(net.parameters(), lr=tr['lr'], eps=1e-7)
    params = list(net.parameters())
    average = [p.detach().clone() for p in params]
    updates = 0

    def masks() -> torch.Tensor:
        """trainingObjective.ts sampleMasks: the whole window with probability fullMaskRate, else the newest h points."""
        m = np.zeros((B, L, len(targets)), np.float32)
        for w in range(B):
            h = L if rng.random() < tr['fullMaskRate'] else 1 + math.floor(rng.random() * min(tr['imputeLength'], L))
            m[w, L - h:, :] = targets
        return torch.from_numpy(m)

    def step() -> None:
        nonlocal updates
        t = torch.randint(0, sched.T, (B,), dtype=torch.int32)
        loss = imputation_loss(net, sched, x0, masks(), t, torch.randn(B, L, 1), cal)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        updates += 1  # weightAverage.ts: d_n = min(decay, (1 + n) / (10 + n))
        d = min(tr['emaDecay'], (1 + updates) / (10 + updates))
        with torch.no_grad():
            torch._foreach_mul_(average, d)
            torch._foreach_add_(average, [p.detach() for p in params], alpha=1 - d)
        if not math.isfinite(loss.item()):
            raise SystemExit('workload: training diverged')

    step(), step()
    n, wall, cpu = timed(step, seconds, min_steps)
    return {'stepsPerSec': n / wall, 'steps': n, 'cpuShare': cpu / wall}


def sgemm_ceiling(n: int, reps: int) -> dict:
    """Best GFLOP/s of an n x n float32 matrix product (2 n^3 FLOPs), NumPy and torch."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), np.float32), rng.standard_normal((n, n), np.float32)
    out = {}
    for name, mm, x, y in (('numpy', np.matmul, a, b), ('torch', torch.mm, torch.from_numpy(a), torch.from_numpy(b))):
        mm(x, y)
        best = min(timed(lambda: mm(x, y), 0, 1)[1] for _ in range(reps))
        out[name] = 2 * n**3 / best / 1e9
    return out


def profile(net, sched, imp, m: dict, batch: int, noise) -> None:
    """torch.profiler's table (self CPU time per op) of one scoring call and one training step, after the timed runs warm up."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    print(json.dumps({'warm-up': bench_scoring(net, sched, imp, m['windowLength'], batch, noise, 1)}))
    z, ts = windows(batch, m['windowLength'], 1)
    with torch.inference_mode(), torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        score_chunk(net, sched, imp, z, ts, noise)
    print(f'scoring, {batch} windows'), print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=12))
    net.train()
    x0_np, ts = windows(m['training']['batchSize'], m['windowLength'], 2)
    x0, cal = torch.from_numpy(x0_np), torch.from_numpy(calendar_features(ts))
    mask = torch.zeros_like(x0)
    mask[:, -1, :] = 1
    opt = torch.optim.Adam(net.parameters(), lr=m['training']['lr'], eps=1e-7)
    for i in range(4):
        with torch_profile(activities=[ProfilerActivity.CPU]) if i == 3 else contextlib.nullcontext() as prof:
            loss = imputation_loss(net, sched, x0, mask, torch.randint(0, sched.T, (x0.shape[0],), dtype=torch.int32), torch.randn_like(x0), cal)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
    print(f"training step, batch {m['training']['batchSize']} (EMA update not included)"), print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=12))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--reference', required=True)
    p.add_argument('--threads', type=int, required=True)
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--seconds', type=float, default=2)
    p.add_argument('--train-steps', type=int, default=5)
    p.add_argument('--no-train', action='store_true')
    p.add_argument('--gemm', type=int, default=2048)
    p.add_argument('--profile', action='store_true', help="print torch.profiler's op table of one call each, not timings")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    ref = json.load(open(a.reference))
    m = ref['manifest']
    net, sched, imp = load_net(ref['nets'][0]), NoiseSchedule(m['schedule']), m['imputation']
    noise = array(ref['scoring']['noise'])  # the model's scoring noise [K, 1, L, C]
    if a.profile:
        profile(net, sched, imp, m, a.batch, noise)
        return
    result = {'threads': torch.get_num_threads(), 'torch': torch.__version__, 'numpy': np.__version__}
    result['scoring'] = bench_scoring(net, sched, imp, m['windowLength'], a.batch, noise, a.seconds)
    if not a.no_train:
        result['training'] = bench_training(net, sched, imp, m['training'], m['windowLength'], a.seconds, a.train_steps)
    result['gemm'] = {'n': a.gemm, 'gflops': sgemm_ceiling(a.gemm, 5)}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
