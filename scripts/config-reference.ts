/**
 * Writes the README's configuration reference (the environment variables and every key, with
 * type, default and meaning) from the schema in src/config. Run after changing the schema:
 *
 *   npx tsx scripts/config-reference.ts
 *
 * test/unit/config/readme.test.ts fails while the README is not up to date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../src/config/configReference.ts';

const file = new URL('../README.md', import.meta.url);
const before = readFileSync(file, 'utf8');
const after = withReference(before);
if (after === before) console.log('README.md: config reference up to date');
else {
  writeFileSync(file, after);
  console.log('README.md: config reference rewritten');
}
