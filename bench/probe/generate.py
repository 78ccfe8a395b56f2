# Telemetry of other kinds than the synthetic suite's (src/eval/synthetic), from an independent
# generator: other noise laws (AR(1), Student-t), a sensor quantised to 0.5, channels that share
# an unobserved cause, a weekly load with weekends, a thermostat loop, setpoints that stepped once,
# a server whose CPU leaves the relation to its requests, a cycle on a growing trend (alone, with
# steps shorter and longer than a window on top), event counts.
# Each case is written as <name>.csv (fit and test rows), <name>.train.csv (the fit rows) and
# <name>.json (per-row labels, the fit's length, the analogue channels the one-line detector reads).
#
#   python generate.py <out dir> <seed>
import numpy as np, json, sys, os
R = 288  # rows per day, 5-minute readings
out = sys.argv[1]; seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
os.makedirs(out, exist_ok=True)
T0 = 1700000000000 - (1700000000000 % 86400000) + 86400000 * 3  # a Monday-ish midnight

def ar1(rng, n, phi, sd):
    e = rng.normal(0, sd, n); x = np.zeros(n)
    for i in range(1, n): x[i] = phi * x[i-1] + e[i]
    return x

def write(name, cols, X, labels, train_rows, analog):
    n = X.shape[0]
    with open(f'{out}/{name}.csv', 'w') as f:
        f.write('timestamp,' + ','.join(cols) + '\n')
        for i in range(n):
            f.write(str(T0 + i * 300000) + ',' + ','.join(f'{v:.5g}' for v in X[i]) + '\n')
    with open(f'{out}/{name}.train.csv', 'w') as f:
        f.write('timestamp,' + ','.join(cols) + '\n')
        for i in range(train_rows):
            f.write(str(T0 + i * 300000) + ',' + ','.join(f'{v:.5g}' for v in X[i]) + '\n')
    json.dump({'labels': labels.astype(int).tolist(), 'train_rows': train_rows, 'analog': analog, 'cols': cols}, open(f'{out}/{name}.json', 'w'))

def stretches(rng, lo, hi, k, length):
    starts = np.sort(rng.choice(np.arange(lo, hi - length, length * 2), k, replace=False))
    return [(s, s + length) for s in starts]

rng = np.random.default_rng(seed)
n = 14 * R; tr = 7 * R; t = np.arange(n); day = 2 * np.pi * t / R

# A: daily cycle + AR(1) noise; in-range 4-sigma (marginal) point spikes
x = 3 * np.sin(day) + ar1(rng, n, 0.8, 0.3); lab = np.zeros(n, bool)
for i in rng.choice(np.arange(tr + 100, n - 10), 12, replace=False):
    x[i] += 4 * 0.5 * rng.choice([-1, 1]); lab[i] = True
write('ar1Spikes', ['v'], x[:, None], lab, tr, ['v'])

# B: daily cycle + Student-t(3) noise; 6-hour stretches of tripled noise
x = 2 * np.sin(day) + 0.3 * rng.standard_t(3, n); lab = np.zeros(n, bool)
for a, b in stretches(rng, tr + 100, n, 3, 72):
    x[a:b] += 0.6 * rng.standard_t(3, b - a); lab[a:b] = True
write('heavyTailVariance', ['v'], x[:, None], lab, tr, ['v'])

# C: five channels share a latent AR component; channel c3 decouples for 3-hour stretches
lat = ar1(rng, n, 0.95, 0.3); X = np.zeros((n, 5)); lab = np.zeros(n, bool)
for c in range(5): X[:, c] = (c + 1) * 10 + np.sin(day + c) + lat + rng.normal(0, 0.15, n)
alt = ar1(rng, n, 0.95, 0.3)
for a, b in stretches(rng, tr + 100, n, 3, 36):
    X[a:b, 3] += alt[a:b] - lat[a:b]; lab[a:b] = True
write('correlatedBreak', [f'c{c}' for c in range(5)], X, lab, tr, [f'c{c}' for c in range(5)])

# D: thermostat loop, temperature quantised to 0.5; the fan fails (commanded on, no cooling)
temp = np.zeros(n); fan = np.zeros(n); T = 20.0; on = 0; lab = np.zeros(n, bool)
fails = stretches(rng, tr + 100, n, 3, 36); failing = np.zeros(n, bool)
for a, b in fails: failing[a:b] = True
for i in range(n):
    heat = 0.06 + 0.05 * np.sin(day[i])
    T += heat - (0.0 if failing[i] else 0.16 * on) + rng.normal(0, 0.03)
    if T > 22: on = 1
    if T < 20.5: on = 0
    temp[i] = np.round(T * 2) / 2; fan[i] = on
# Only where the fan runs does the failure show: a failing fan that is off is a normal fan.
lab = failing & (fan == 1)
write('fanFailure', ['temp', 'fan'], np.stack([temp, fan], 1), lab, tr, ['temp'])

# E: business-hours load with weekends (14 days to fit); a weekday that behaves like a Sunday
n2 = 21 * R; tr2 = 14 * R; t2 = np.arange(n2); hour = (t2 % R) / 12; dow = (t2 // R) % 7
busy = ((hour > 8) & (hour < 18) & (dow < 5)).astype(float)
load = 20 + 50 * busy * (1 - np.exp(-((hour - 8).clip(0)) / 1.5)) + ar1(rng, n2, 0.7, 2.0)
lab = np.zeros(n2, bool); d = 16  # a Wednesday of the third week
s = d * R + 8 * 12; e = d * R + 18 * 12
load[s:e] -= 50 * busy[s:e] * (1 - np.exp(-((hour[s:e] - 8).clip(0)) / 1.5)); lab[s:e] = True
write('weekdayLikeWeekend', ['load'], load[:, None], lab, tr2, ['load'])

# F: one analog channel beside 10 constants and 5 setpoints that stepped once in training;
# 4-hour level shifts of 2 noise sd
X = np.zeros((n, 16)); lab = np.zeros(n, bool)
X[:, 0] = 50 + 5 * np.sin(day) + rng.normal(0, 1.0, n)
for c in range(1, 11): X[:, c] = c * 7.0
for c in range(11, 16):
    step = rng.integers(R, tr - R); X[:, c] = 100.0 + 5 * c; X[step:, c] += 5
for a, b in stretches(rng, tr + 100, n, 3, 48):
    X[a:b, 0] += 2.0; lab[a:b] = True
write('levelBesideConstants', ['a'] + [f'k{c}' for c in range(1, 11)] + [f's{c}' for c in range(11, 16)], X, lab, tr, ['a'])

# G: a server's requests, CPU, power and latency (CPU follows requests, power and latency follow
# CPU); a runaway process adds CPU for 2-hour stretches while requests stay as they were. Each
# channel stays inside its daily range; only the relation to requests breaks.
req = 130 + 30 * np.sin(day) + ar1(rng, n, 0.9, 8.0)
cpu = 10 + 0.4 * req + rng.normal(0, 2.0, n); lab = np.zeros(n, bool)
for a, b in stretches(rng, tr + 100, n, 3, 24):
    cpu[a:b] += 15; lab[a:b] = True
power = 120 + 1.5 * cpu + rng.normal(0, 3.0, n)
latency = 20 + 0.002 * cpu ** 2 + rng.normal(0, 1.0, n)
write('runawayProcess', ['requests', 'cpu', 'power', 'latency'], np.stack([req, cpu, power, latency], 1), lab, tr, ['requests', 'cpu', 'power', 'latency'])

# H: a daily cycle on a trend that keeps growing after the fit (a disk filling, a user base
# growing): by the test days the level is above everything seen in training. 4-sigma in-range
# (for its day) point spikes.
x = 0.004 * t + 3 * np.sin(day) + rng.normal(0, 0.5, n); lab = np.zeros(n, bool)
for i in rng.choice(np.arange(tr + 100, n - 10), 12, replace=False):
    x[i] += 4 * 0.5 * rng.choice([-1, 1]); lab[i] = True
write('trendingCycle', ['v'], x[:, None], lab, tr, ['v'])

# I: event counts per 5 minutes (Poisson, a daily rate between 0.5 and 5); bursts of four times
# the rate for an hour.
rate = 2.75 + 2.25 * np.sin(day); lab = np.zeros(n, bool)
for a, b in stretches(rng, tr + 100, n, 4, 12):
    rate[a:b] *= 4; lab[a:b] = True
write('countBursts', ['events'], rng.poisson(rate).astype(float)[:, None], lab, tr, ['events'])

# J: the trend of H with 3-hour steps of 4 noise sd (a partition remounted, a cache lost): the
# growth is normal, a step on top of it is not, for as long as it lasts.
x = 0.004 * t + 3 * np.sin(day) + rng.normal(0, 0.5, n); lab = np.zeros(n, bool)
for a, b in stretches(rng, tr + 100, n, 3, 36):
    x[a:b] += 4 * 0.5 * rng.choice([-1, 1]); lab[a:b] = True
write('trendingStep', ['v'], x[:, None], lab, tr, ['v'])

# K: the trend of H with 12-hour steps of 4 noise sd: a step that outlasts the window, which a
# model that follows the trend by centring its windows sees only while the window holds its start.
x = 0.004 * t + 3 * np.sin(day) + rng.normal(0, 0.5, n); lab = np.zeros(n, bool)
for a, b in stretches(rng, tr + 100, n, 2, 144):
    x[a:b] += 4 * 0.5 * rng.choice([-1, 1]); lab[a:b] = True
write('trendingLongStep', ['v'], x[:, None], lab, tr, ['v'])
