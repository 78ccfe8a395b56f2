import { it } from 'vitest';
import { diffusionDetector } from '../../../../../src/eval/nab/harness/diffusionDetector.ts';
import { scoreReplay } from '../../../../../src/eval/nab/harness/index.ts';
import { series, wave } from './helpers.ts';
it('dbg', async () => {
  const base = wave(1500, 3);
  const future = base.map((v, i) => (i >= 900 ? v + 15 : v) + (i === 1300 ? 300 : 0));
  const d = diffusionDetector({ model: { windowLength: 16, width: 8, depth: 2, epochs: 3, draws: 2 } });
  const s = series(future);
  const fd = await d.open({ path: 'x', rows: 1500, probationaryRows: 225, training: { channels: ['value'], timestamps: s.timestamps.slice(0, 225), values: s.values.slice(0, 225) }, seed: 0 });
  const raw: number[] = [];
  const inner = fd.scorer;
  fd.scorer = { ...inner, score: async (ws) => { const r = await inner.score(ws); r.forEach((x) => raw.push(x.score)); return r; } };
  const r = await scoreReplay(s, fd, { entityId: 'x', windowLength: 16 });
  const rows = [20, 100, 226, 240, 247, 260, 400, 800, 899, 900, 905, 1000, 1299, 1300, 1301, 1305, 1400];
  console.log("onsets", [...r.alertOnsets.keys()].filter((i) => r.alertOnsets[i]).join(","), "rank", [...r.scores].filter((x) => x > r.scores[1300]).length);
  console.log(rows.map((i) => `${i}: raw=${raw[i - 15]?.toFixed(4)} s=${r.scores[i].toFixed(4)}`).join('\n'));
});
