"""
The default scoring procedure and training loss of diffwatch's imputation model in PyTorch, tensor
for tensor as the TypeScript does it (bench/reference/README.md says what is and is not reproduced):

    noiseSchedule.ts       cosine / linear schedule, float64          -> NoiseSchedule
    calendar.ts            time of day and week features              -> calendar_features
    imputation.ts          impute (K draws x S DDIM steps from T-1), predictiveNll, imputationLoss
    imputationScorer.ts    chunkTensors (the last R = leftReach + 1 points), the context test
                           (newest point hidden) and the profile test (whole window hidden)

The scoring noise `[K, 1, L, C]` is an input, as `scoringNoise(model)` is in the TypeScript.
"""
import math

import numpy as np
import torch

DENOISED_CLIP = 10.0  # imputation.ts
CALENDAR_FEATURES = 4
DAY_MS = 86_400_000


class NoiseSchedule:
    """makeNoiseSchedule: every coefficient in float64, indexed by t = 0 ... T-1."""

    def __init__(self, args: dict):
        T = self.T = args['T']
        if args['kind'] == 'linear':
            betas = np.linspace(args['betaStart'], args['betaEnd'], T) if T > 1 else np.array([args['betaStart']])
        else:
            s = args['s']
            abar = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
            betas = np.array([min(1 - abar((t + 1) / T) / abar(t / T), 0.999) for t in range(T)])
        self.alphas_cumprod = np.cumprod(1 - betas)
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1 - self.alphas_cumprod)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1 / self.alphas_cumprod)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1 / self.alphas_cumprod - 1)


def ddim_timesteps(t0: int, steps: int) -> list[int]:
    """diffusion.ts ddimTimesteps; floor(x + 0.5) is JavaScript's Math.round."""
    return [math.floor((t0 + 1) * (steps - i) / steps + 0.5) - 1 for i in range(steps)]


def left_reach(args: dict) -> int:
    """denoiser.ts leftReach."""
    total = args['kernelSize'] - 1
    before = total if args['padding'] == 'causal' else total // 2
    return before * (1 + 2 * sum(args['dilations']))


def calendar_features(timestamps: np.ndarray) -> np.ndarray:
    """calendar.ts: [sin 2pi d, cos 2pi d, sin 2pi w, cos 2pi w] per epoch-ms timestamp, `[..., 4]` float32."""
    days = timestamps / DAY_MS
    d = 2 * np.pi * (days - np.floor(days))
    weeks = (days + 3) / 7
    w = 2 * np.pi * (weeks - np.floor(weeks))
    return np.stack([np.sin(d), np.cos(d), np.sin(w), np.cos(w)], -1).astype(np.float32)


def condition_input(x0, mask, cal):
    """[x_0 (1 - m), m, calendar] `[B, L, 2C (+4)]`."""
    return torch.cat([x0 * (1 - mask), mask] + ([cal] if cal is not None else []), 2)


def impute(net, sched: NoiseSchedule, x0, mask, noise, cal, steps: int, draws: int):
    """imputation.ts impute: K imputations of the masked entries, `[K, B, L, C]`; noise is `[K*B, L, C]` draw-major."""
    B, L, C = x0.shape
    xs = x0.repeat(draws, 1, 1)  # [K*B, L, C], draw-major as tf.tile
    ms = mask.repeat(draws, 1, 1)  # [K*B, L, C]
    cond = condition_input(xs, ms, cal.repeat(draws, 1, 1) if cal is not None else None)  # [K*B, L, 2C (+4)]
    x = noise
    times = ddim_timesteps(sched.T - 1, steps)
    for i, t in enumerate(times):
        out = net(x * ms, torch.full((draws * B,), t, dtype=torch.int32), cond)  # [K*B, L, C]: x_0-hat
        abar = sched.alphas_cumprod[t]
        eps = (x - math.sqrt(abar) * out.clamp(-DENOISED_CLIP, DENOISED_CLIP)) / math.sqrt(1 - abar)
        # GaussianDiffusion.ddimStep with eta = 0; t_prev = -1 is the clean end.
        x0_hat = sched.sqrt_recip_alphas_cumprod[t] * x - sched.sqrt_recipm1_alphas_cumprod[t] * eps
        abar_prev = sched.alphas_cumprod[times[i + 1]] if i + 1 < len(times) else 1.0
        x = math.sqrt(abar_prev) * x0_hat + math.sqrt(max(0.0, 1 - abar_prev)) * eps
    kept = x * ms + xs * (1 - ms)  # [K*B, L, C]
    return kept.reshape(draws, B, L, C)


def moments(samples):
    """tf.moments over the draws: mean and population variance, `[B, L, C]` each."""
    mean = samples.mean(0)
    return mean, ((samples - mean) ** 2).mean(0)


def predictive_nll(samples, x0, mask, floor: float):
    mean, var = moments(samples)
    sigma2 = var + floor**2
    nll = 0.5 * (x0 - mean) ** 2 / sigma2 + 0.5 * torch.log(sigma2 / floor**2)
    return nll * mask, mean


def mean_residual(samples, x0, targets, floor: float, span: int, dispersion: bool):
    """imputationScorer.ts meanResidual: z-bar (and d = ln mean z^2) over the newest `span` points, `[B, C]`."""
    B, R, C = x0.shape
    n = min(R, span)
    mean, var = moments(samples)
    z = (x0 - mean) / torch.sqrt(var + floor**2)  # [B, R, C]
    recent = z[:, R - n:, :]  # [B, n, C]
    z_bar = recent.mean(1) * targets  # [B, C]
    d = torch.log((recent**2).mean(1) + 1e-6) * targets if dispersion else None
    return z_bar, d


def score_chunk(net, sched: NoiseSchedule, imp: dict, z: np.ndarray, timestamps: np.ndarray | None, noise: np.ndarray) -> dict:
    """
    imputationScorer.ts imputeChunk for b normalised windows `z` `[b, L, C]` (timestamps `[b, L]` epoch ms,
    noise `[K, 1, L, C]`): the context test's newest-point NLL and mean, the profile test's z-bar and
    dispersion, and the evidence max(NLL, z-bar^2 / 2) of a model without profile calibration. `[b, C]` each.
    """
    b, L, C = z.shape
    K, S = imp['draws'], imp['steps']
    R = min(L, left_reach(net.args) + 1)
    targets = torch.tensor([1.0 if t else 0.0 for t in imp['targets']])  # [C]
    x0 = torch.from_numpy(np.ascontiguousarray(z[:, L - R:, :]))  # [b, R, C]
    eps = torch.from_numpy(np.ascontiguousarray(noise[:, :, L - R:, :])).expand(K, b, R, C).reshape(K * b, R, C)  # [K*b, R, C]
    cal = torch.from_numpy(calendar_features(timestamps[:, L - R:])) if imp.get('calendar') else None  # [b, R, 4]
    newest = torch.zeros(b, R, C)
    newest[:, R - 1, :] = targets  # the context test: the newest point of every target
    nll, mean = predictive_nll(impute(net, sched, x0, newest, eps, cal, S, K), x0, newest, imp['sigmaFloor'])
    out = {'nll': nll[:, R - 1, :], 'mean': mean[:, R - 1, :]}
    evidence = out['nll']
    if imp.get('profileTest'):
        whole = targets.expand(b, R, C).contiguous()  # the profile test: the whole window of every target
        z_bar, d = mean_residual(impute(net, sched, x0, whole, eps, cal, S, K), x0, targets, imp['sigmaFloor'], imp.get('profileSpan', 1), bool(imp.get('dispersionTest')))
        out.update(zBar=z_bar, **({'dispersion': d} if d is not None else {}))
        evidence = torch.maximum(evidence, 0.5 * z_bar**2)
    out['evidence'] = evidence
    return {k: v.numpy() for k, v in out.items()}


def imputation_loss(net, sched: NoiseSchedule, x0, mask, t, noise, cal):
    """imputation.ts imputationLoss: sum m (x_0 - f(x_t m, t, cond))^2 / sum m, with x_t = q_sample(x_0, t, noise)."""
    a = torch.from_numpy(sched.sqrt_alphas_cumprod.astype(np.float32))[t.long()][:, None, None]  # [B, 1, 1]
    s = torch.from_numpy(sched.sqrt_one_minus_alphas_cumprod.astype(np.float32))[t.long()][:, None, None]
    xt = a * x0 + s * noise  # [B, L, C]
    out = net(xt * mask, t, condition_input(x0, mask, cal))  # [B, L, C]
    return ((x0 - out) ** 2 * mask).sum() / mask.sum().clamp(min=1)
