"""
Check that the PyTorch reference computes what TF.js computed (exportWeights.ts wrote the file):
every output of the same inputs with the same weights, compared as max |torch - tfjs| / max |tfjs|.
Exits 1, naming the output, when one exceeds the tolerance; prints one JSON line either way.

    .cache/torch-ref/venv/bin/python bench/reference/check.py .cache/torch-ref/reference.json [--tolerance 1e-4]
"""
import argparse
import json
import sys

import numpy as np
import torch

from denoiser import Denoiser
from diffusion import NoiseSchedule, imputation_loss, score_chunk


def array(rec: dict) -> np.ndarray:
    return np.asarray(rec['data'], dtype=np.float32).reshape(rec['shape'])


def load_net(rec: dict) -> Denoiser:
    net = Denoiser(rec['args'])
    net.load_tfjs_weights({k: array(v) for k, v in rec['weights'].items()})
    return net.eval()


def compare(name: str, ours, theirs, results: dict) -> None:
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    if ours.shape != theirs.shape:
        raise SystemExit(f'check: {name}: torch shape {ours.shape}, TF.js shape {theirs.shape}')
    diff = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    scale = float(np.max(np.abs(theirs))) if theirs.size else 0.0
    results[name] = {'maxAbsDiff': diff, 'scale': scale, 'relative': diff / scale if scale > 0 else diff}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('file')
    p.add_argument('--tolerance', type=float, default=1e-4, help='max |difference| / max |TF.js output|')
    a = p.parse_args()
    torch.set_num_threads(1)
    ref = json.load(open(a.file))
    results: dict = {}

    with torch.no_grad():
        for i, rec in enumerate(ref['nets']):
            net, call = load_net(rec), rec['call']
            cond = torch.from_numpy(array(call['cond'])) if 'cond' in call else None
            eps = net(torch.from_numpy(array(call['xt'])), torch.from_numpy(array(call['t']).astype(np.int32)), cond)
            compare(f"net{i}.eps ({rec['args']['padding']})", eps.numpy(), array(call['eps']), results)

        net, m = load_net(ref['nets'][0]), ref['manifest']
        sched = NoiseSchedule(m['schedule'])
        sc = ref['scoring']
        ts = np.asarray(sc['timestamps']['data'], np.float64).reshape(sc['timestamps']['shape'])
        out = score_chunk(net, sched, m['imputation'], array(sc['z']), ts, array(sc['noise']))
        for key in ('nll', 'mean', 'zBar', 'dispersion', 'evidence'):
            if key in sc:
                compare(f'scoring.{key}', out[key], array(sc[key]), results)

    tr = ref['training']
    net.train()
    cal = torch.from_numpy(array(tr['calendar'])) if 'calendar' in tr else None
    loss = imputation_loss(net, sched, torch.from_numpy(array(tr['x0'])), torch.from_numpy(array(tr['mask'])), torch.from_numpy(array(tr['t']).astype(np.int32)), torch.from_numpy(array(tr['noise'])), cal)
    loss.backward()
    compare('training.loss', loss.item(), tr['loss'], results)
    grads = net.tfjs_grads()
    compare('training.grads (all weights)', np.concatenate([grads[k].ravel() for k in sorted(grads)]), np.concatenate([array(tr['grads'][k]).ravel() for k in sorted(grads)]), results)

    worst = max(results, key=lambda k: results[k]['relative'])
    ok = results[worst]['relative'] <= a.tolerance
    print(json.dumps({'ok': ok, 'tolerance': a.tolerance, 'tfjsBackend': ref['backend'], 'torch': torch.__version__, 'worst': worst, 'results': results}))
    if not ok:
        print(f"check: FAILED: {worst} differs by {results[worst]['maxAbsDiff']:.3g} ({results[worst]['relative']:.3g} of its scale {results[worst]['scale']:.3g}), above the tolerance {a.tolerance:g}", file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
