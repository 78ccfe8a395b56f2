import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configReference, keyTable, REFERENCE_END, REFERENCE_START } from '../../../src/config/configReference.ts';
import { ENV_OVERRIDES } from '../../../src/config/envOverrides.ts';

const root = new URL('../../../', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The codes of the typed errors: every code-like literal of a file defining one, and the codes passed to DiffwatchError itself. */
function codesInSource(): Set<string> {
  const codes = new Set<string>();
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const definesErrors = file.endsWith('src/errors.ts') || /extends DiffwatchError\b/.test(text);
    if (definesErrors) for (const m of text.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g)) codes.add(m[1]);
    for (const m of text.matchAll(/new DiffwatchError\(\s*'([A-Z0-9_]+)'/g)) codes.add(m[1]);
  }
  return codes;
}

/** The codes in the first column of the README's error table. */
function codesInReadme(): Set<string> {
  const section = readme.split(/\n## Error codes\n/)[1]?.split(/\n## /)[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return new Set(rows.flatMap((r) => [...r.split('|')[1].matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])));
}

describe('README', () => {
  it('holds the config reference the schema generates now (run npx tsx scripts/config-reference.ts)', () => {
    const start = readme.indexOf(REFERENCE_START);
    const end = readme.indexOf(REFERENCE_END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end + REFERENCE_END.length)).toBe(configReference());
  });

  it('documents every key path of the schema, and each environment variable sets one of them', () => {
    const keys = [...keyTable().matchAll(/^\| \*{0,2}`([^`]+)`/gm)].map((m) => m[1]);
    expect(keys).toContain('kafka.sessionTimeoutMs');
    expect(keys).toContain('detect.onsetScorer.gate.level');
    expect(keys).toContain('ops.http.port');
    for (const k of keys) expect(readme).toContain(`\`${k}\``);
    for (const o of ENV_OVERRIDES) {
      expect(keys, o.name).toContain(o.key);
      expect(readme).toContain(`\`${o.name}\``);
    }
  });

  it('lists every error code in its table, and no code that does not exist', () => {
    const inSource = codesInSource();
    const inReadme = codesInReadme();
    expect(inSource).toContain('CONFIG_INVALID');
    expect(inSource).toContain('STATE_CLOSED');
    expect([...inSource].filter((c) => !inReadme.has(c)), 'codes missing from the README').toEqual([]);
    expect([...inReadme].filter((c) => !inSource.has(c)), 'README codes no error defines').toEqual([]);
  });
});
