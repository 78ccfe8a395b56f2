/**
 * Reads named columns of a plain CSV file as NAB writes it: a header row, comma-separated,
 * no quoting (timestamps and numbers only). Enough for NAB's data and results files, no more.
 */
import { readFile } from 'node:fs/promises';
import { NabError } from './nabError.ts';

/**
 * @returns one array of cell texts per wanted column, in the order asked.
 * @example const [ts, score] = await readCsvColumns('numenta_art_noisy.csv', ['timestamp', 'anomaly_score']);
 */
export async function readCsvColumns(file: string, wanted: readonly string[]): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new NabError('NAB_NOT_FOUND', `cannot read ${file}`, { file }, e);
  }
  const lines = text.split('\n');
  const header = lines[0].replace(/\r$/, '').split(',').map((h) => h.trim());
  const at = wanted.map((name) => {
    const i = header.indexOf(name);
    if (i < 0) throw new NabError('NAB_INVALID', `${file} has no "${name}" column (header: ${header.join(',')})`, { file, row: 1 });
    return i;
  });
  const columns: string[][] = wanted.map(() => []);
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l].endsWith('\r') ? lines[l].slice(0, -1) : lines[l];
    if (line.length === 0) continue; // trailing newline
    const cells = line.split(',');
    for (let c = 0; c < at.length; c++) {
      const cell = cells[at[c]];
      if (cell === undefined) throw new NabError('NAB_INVALID', `${file}: line ${l + 1} has too few cells`, { file, row: l + 1 });
      columns[c].push(cell);
    }
  }
  return columns;
}
