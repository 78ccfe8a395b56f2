/**
 * The shipped diffusion detector (the NAB configuration, `NAB_DIFFUSION_MODEL`, with the model's
 * default imputation score) on a small seeded slice of the synthetic suite: 3 days to fit, 2 to
 * test, one univariate case per type. It must separate a 4σ contextual spike, a level shift and a
 * phase shift of the daily cycle from normal rows, and the same network left untrained (one epoch
 * at a learning rate too small to move a weight; its scaler and fitted statistics are the trained
 * one's) must not. The full suite's figures are in docs/evaluation.md.
 *
 * The multivariate layout (three analogue channels, 22 commands, 3 constants) is checked the same
 * way on a one-channel spike and on a response without its command: the net reads only the commands
 * related to an analogue channel (conditioningRelation.ts), and the window score is the calibrated
 * combination of the channels (channelCalibration.ts).
 *
 * The fleet layout (a daily channel beside seven unrelated cycles and drifts) is checked on a 5σ
 * spike with the 7-day fit its slow cycles need: the default model, a net per group of related
 * channels (channelGroups.ts), must separate it; the same model with one net over every channel,
 * which predicts the main channel from the phases of unrelated ones, and the untrained network
 * must not.
 *
 * Three settings of the noise-level tests are checked against the same model without them, in one
 * multivariate run: the too-still test's median step on a stuck value; on a tripled noise, the
 * context test's calibration (`contextCalibration`: without it, the raw NLL's heavy normal tail
 * outvotes the dispersion test in the max of the tests, imputationScorer.ts) and the centred
 * dispersion test that a 3-day fit keeps where it drops the profile tests (`shortFitDispersion`,
 * profileScope.ts).
 *
 * The flatline is not asserted here: its evidence is the too-still test (stillness.ts), a statistic
 * fitted on the training rows that needs no trained network, so an untrained one also finds it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { diffusionDetector } from '../../../../src/eval/nab/harness/diffusionDetector.ts';
import { formatSuiteTable, runSuite } from '../../../../src/eval/synthetic/index.ts';

const TYPES = ['spike4', 'levelShift', 'phaseShift'] as const;
const KNOBS = { fitDays: 3, holdoutDays: 1, testDays: 2, spikeCount: 4 };
const PASS = 0.9;
const UNTRAINED_BELOW = 0.75;

describe('diffusion detector on the synthetic suite', () => {
  it('separates contextual spikes, level and phase shifts (AUC ≥ 0.9 each); its untrained network does not (< 0.75 each)', async () => {
    const trained = diffusionDetector({ name: 'trained' });
    const untrained = diffusionDetector({ name: 'untrained', model: { epochs: 1, lr: 1e-12 } });
    const r = await runSuite({ seed: 0, detectors: [trained, untrained], layouts: ['univariate'], types: [...TYPES], casesPerType: 1, knobs: KNOBS });
    const auc = (t: string, d: string) => r.summary.univariate[t][d].auc;
    console.log(formatSuiteTable(r));
    // Measured with seed 0 (wasm): trained 0.990 / 0.993 / 0.933 (0.935 before robustDispersion), untrained
    // 0.633 / 0.597 / 0.479 (the raw context NLL, before it was calibrated, and no centred dispersion test:
    // trained 0.983 / 0.998 / 0.955, untrained 0.251 / 0.600 / 0.444).
    for (const t of TYPES) {
      expect(auc(t, 'trained'), `${t} trained`).toBeGreaterThanOrEqual(PASS);
      expect(auc(t, 'untrained'), `${t} untrained`).toBeLessThan(UNTRAINED_BELOW);
    }
  }, 120_000);

  it('multivariate: separates a 5σ spike of one channel (≥ 0.9) and a response without its command (≥ 0.8); its untrained network does not (< 0.75 each)', async () => {
    const trained = diffusionDetector({ name: 'trained' });
    const untrained = diffusionDetector({ name: 'untrained', model: { epochs: 1, lr: 1e-12 } });
    const pass: Record<string, number> = { spike5: PASS, responseWithoutCommand: 0.8 };
    const types = Object.keys(pass);
    const r = await runSuite({ seed: 0, detectors: [trained, untrained], layouts: ['multivariate'], types, casesPerType: 1, knobs: KNOBS });
    const auc = (t: string, d: string) => r.summary.multivariate[t][d].auc;
    console.log(formatSuiteTable(r));
    // Measured with seed 0 (wasm): trained 1.000 / 0.931, untrained 0.706 / 0.636 (the raw context NLL:
    // trained 1.000 / 0.891, untrained 0.609 / 0.622). Before the relation
    // screen of the commands (conditioningRelation.ts) the trained network scored 0.582 / 0.637 here.
    for (const t of types) {
      expect(auc(t, 'trained'), `${t} trained`).toBeGreaterThanOrEqual(pass[t]);
      expect(auc(t, 'untrained'), `${t} untrained`).toBeLessThan(UNTRAINED_BELOW);
    }
  }, 240_000);

  describe('the noise level (multivariate): one suite run, models that differ in one setting each', () => {
    let r: Awaited<ReturnType<typeof runSuite>>;
    beforeAll(async () => {
      const detectors = [
        diffusionDetector({ name: 'default' }),
        diffusionDetector({ name: 'meanStep', model: { stillnessStep: 'mean' } }),
        diffusionDetector({ name: 'rawNll', model: { contextCalibration: false } }),
        diffusionDetector({ name: 'uncentred', model: { shortFitDispersion: false } }),
      ];
      r = await runSuite({ seed: 0, detectors, layouts: ['multivariate'], types: ['stuckValue', 'varianceChange'], casesPerType: 1, knobs: KNOBS });
      console.log(formatSuiteTable(r));
    }, 360_000);
    const auc = (t: string, d: string) => r.summary.multivariate[t][d].auc;

    it("stuck value: the too-still test's median step finds a sample-and-hold stretch that its mean step ranks lower", () => {
      // Measured with seed 0 (wasm): median 0.987, mean 0.965 (0.988 and 0.966 before robustDispersion; the same
      // nets: only the statistic differs; with the raw context NLL, before it was calibrated, 0.978 and 0.841).
      expect(auc('stuckValue', 'default')).toBeGreaterThanOrEqual(0.95);
      expect(auc('stuckValue', 'meanStep')).toBeLessThan(auc('stuckValue', 'default') - 0.02);
    });

    it('variance change: the centred dispersion test on a fit under a week finds a tripled noise, which the raw NLL in the max of the tests outvotes', () => {
      // Measured with seed 0 (wasm): default 0.986 (0.987 before robustDispersion), with the raw context NLL 0.831
      // (the same nets: only the scoring differs), without the centred test on a 3-day fit 0.794 (the profile
      // tests dropped, profileScope.ts).
      expect(auc('varianceChange', 'default')).toBeGreaterThanOrEqual(0.95);
      expect(auc('varianceChange', 'rawNll')).toBeLessThan(auc('varianceChange', 'default') - 0.1);
      expect(auc('varianceChange', 'uncentred')).toBeLessThan(auc('varianceChange', 'default') - 0.1);
    });
  });

  it('fleet: separates a 5σ spike of the main channel beside unrelated ones (≥ 0.9); one net over every channel and the untrained network do not (< 0.9, < 0.75)', async () => {
    const trained = diffusionDetector({ name: 'trained' });
    const joint = diffusionDetector({ name: 'joint', model: { channelGroups: false } });
    const untrained = diffusionDetector({ name: 'untrained', model: { epochs: 1, lr: 1e-12 } });
    const r = await runSuite({ seed: 0, detectors: [trained, joint, untrained], layouts: ['fleet'], types: ['spike5'], casesPerType: 1, knobs: { testDays: 2 } });
    const auc = (d: string) => r.summary.fleet.spike5[d].auc;
    console.log(formatSuiteTable(r));
    // Measured with seed 0 (wasm): trained 0.996, one net 0.833, untrained 0.543 (the raw context NLL: 0.996, 0.674,
    // 0.555); about 3.5 min, most of it training.
    expect(auc('trained')).toBeGreaterThanOrEqual(PASS);
    expect(auc('joint')).toBeLessThan(PASS);
    expect(auc('untrained')).toBeLessThan(UNTRAINED_BELOW);
  }, 300_000);
});
