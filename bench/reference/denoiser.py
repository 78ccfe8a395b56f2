"""
The denoiser of src/model/denoiser.ts in PyTorch, for speed and equivalence comparisons only
(bench/reference/README.md). Same layers, same order, same weights:

    h   = conv_K(x_t ++ cond)                               input projection, C + condChannels -> width
    e   = SiLU(dense2(SiLU(dense1(sinusoid(t)))))           time embedding MLP, E -> E -> E
    h  += conv2_d(SiLU(conv1_d(h)) + dense_i(e))            per block i, dilation d = 1, 2, 4, 8, ...
    eps = conv_1(SiLU(h))                                   output projection, width -> C

TF.js is channels-last (`[B, L, C]`), torch's conv1d channels-first (`[B, C, L]`): `forward` takes
and returns channels-last tensors, as `Denoiser.apply` does, and transposes once on each side.
Weights are loaded from the TF.js names and layouts (`load_tfjs_weights`): a conv kernel
`[K, Cin, Cout]` becomes torch's `[Cout, Cin, K]`, a dense kernel `[in, out]` becomes `[out, in]`.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def timestep_frequencies(dim: int, max_period: float = 10_000) -> np.ndarray:
    """timestepEmbedding.ts' frequencies: computed in float64, stored as float32."""
    half = dim // 2
    return np.exp(-math.log(max_period) * np.arange(half) / half).astype(np.float32)


def timestep_embedding(t: torch.Tensor, dim: int, freqs: torch.Tensor) -> torch.Tensor:
    """[cos(t f), sin(t f), 0 if dim is odd]: `[B]` -> `[B, E]` (improved-diffusion's timestep_embedding)."""
    args = t.float()[:, None] * freqs[None, :]  # [B, half]
    parts = [torch.cos(args), torch.sin(args)]
    if dim % 2 == 1:
        parts.append(torch.zeros_like(args[:, :1]))
    return torch.cat(parts, 1)  # [B, E]


class PaddedConv1d(nn.Conv1d):
    """unfoldConv1d.ts' padding rules: 'same' as TF (an odd extra zero goes after), 'causal' all before."""

    def __init__(self, cin: int, cout: int, k: int, dilation: int, padding: str):
        total = (k - 1) * dilation
        before = total if padding == 'causal' else total // 2
        # torch's own padding='same' splits an odd total the way TF does; causal needs an explicit pad.
        super().__init__(cin, cout, k, dilation=dilation, padding='same' if padding == 'same' else 0)
        self.causal_pad = before if padding == 'causal' else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.causal_pad:
            x = F.pad(x, (self.causal_pad, 0))  # [B, Cin, L + (K-1)·d]
        return super().forward(x)  # [B, Cout, L]


class Block(nn.Module):
    def __init__(self, width: int, embed_dim: int, k: int, dilation: int, padding: str):
        super().__init__()
        self.conv1 = PaddedConv1d(width, width, k, dilation, padding)
        self.time = nn.Linear(embed_dim, width)
        self.conv2 = PaddedConv1d(width, width, k, dilation, padding)

    def forward(self, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        y = F.silu(self.conv1(h))  # [B, width, L]
        y = y + self.time(temb)[:, :, None]  # [B, width, L] + [B, width, 1]
        return h + self.conv2(y)  # [B, width, L]


class Denoiser(nn.Module):
    """`args` is a DenoiserArgs record as a checkpoint manifest stores it (JSON)."""

    def __init__(self, args: dict):
        super().__init__()
        self.args = args
        c, cc, w, k, e = args['channels'], args['condChannels'], args['width'], args['kernelSize'], args['embedDim']
        pad = args['padding']
        self.in_proj = PaddedConv1d(c + cc, w, k, 1, pad)
        self.dense1 = nn.Linear(e, e)
        self.dense2 = nn.Linear(e, e)
        self.blocks = nn.ModuleList(Block(w, e, k, d, pad) for d in args['dilations'])
        self.out_proj = PaddedConv1d(w, c, 1, 1, pad)
        self.register_buffer('freqs', torch.from_numpy(timestep_frequencies(e)), persistent=False)

    def forward(self, xt: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """xt `[B, L, C]`, t `[B]` int, cond `[B, L, condChannels]` -> eps `[B, L, C]` (channels-last, as TF.js)."""
        x = torch.cat([xt, cond], 2) if cond is not None else xt  # [B, L, C + condChannels]
        emb = timestep_embedding(t, self.args['embedDim'], self.freqs)  # [B, E]
        temb = F.silu(self.dense2(F.silu(self.dense1(emb))))  # [B, E]
        h = self.in_proj(x.transpose(1, 2))  # [B, width, L]
        for block in self.blocks:
            h = block(h, temb)  # [B, width, L]
        return self.out_proj(F.silu(h)).transpose(1, 2)  # [B, L, C]

    def tfjs_names(self) -> dict:
        """TF.js weight name -> (torch parameter, how the TF.js array maps onto it)."""
        names = {'inProj': self.in_proj, 'timeEmbed/dense1': self.dense1, 'timeEmbed/dense2': self.dense2, 'outProj': self.out_proj}
        for i, b in enumerate(self.blocks):
            names.update({f'block{i}/conv1': b.conv1, f'block{i}/time': b.time, f'block{i}/conv2': b.conv2})
        out = {}
        for prefix, layer in names.items():
            # conv kernel [K, Cin, Cout] -> [Cout, Cin, K]; dense kernel [in, out] -> [out, in]
            out[f'{prefix}/kernel'] = (layer.weight, (2, 1, 0) if isinstance(layer, nn.Conv1d) else (1, 0))
            out[f'{prefix}/bias'] = (layer.bias, (0,))
        return out

    @torch.no_grad()
    def load_tfjs_weights(self, weights: dict) -> None:
        """`weights`: TF.js name -> float32 ndarray in TF.js layout. Names and shapes must match exactly."""
        names = self.tfjs_names()
        missing, extra = sorted(set(names) - set(weights)), sorted(set(weights) - set(names))
        if missing or extra:
            raise ValueError(f'denoiser weights: missing {missing}, unexpected {extra}')
        for name, (param, perm) in names.items():
            value = torch.from_numpy(np.ascontiguousarray(np.transpose(weights[name], perm)))
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(f'denoiser weight {name}: expected torch shape {tuple(param.shape)}, got {tuple(value.shape)} from TF.js {weights[name].shape}')
            param.copy_(value)

    def tfjs_grads(self) -> dict:
        """The parameters' gradients in TF.js names and layouts (the inverse of load_tfjs_weights)."""
        return {name: np.transpose(p.grad.numpy(), np.argsort(perm)) for name, (p, perm) in self.tfjs_names().items()}
