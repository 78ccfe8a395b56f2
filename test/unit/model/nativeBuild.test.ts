import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeBindingThreadSafe, THREAD_SAFETY_PATCH } from '../../../src/model/nativeBuild.ts';

/** A project folder with the given native packages, each with its native-build.json (null: none). */
function project(packages: Record<string, object | null>): NodeJS.Require {
  const root = mkdtempSync(path.join(tmpdir(), 'native-build-'));
  dirs.push(root);
  writeFileSync(path.join(root, 'package.json'), '{"name":"p","private":true}');
  for (const [pkg, build] of Object.entries(packages)) {
    const dir = path.join(root, 'node_modules', pkg);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '4.22.0' }));
    if (build) writeFileSync(path.join(dir, 'native-build.json'), JSON.stringify(build));
  }
  return createRequire(path.join(root, 'package.json'));
}
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('nativeBindingThreadSafe', () => {
  it('is undefined when no native package is installed', () => {
    expect(nativeBindingThreadSafe(project({}))).toBeUndefined();
  });

  it('is true when native-setup recorded the patch', () => {
    expect(nativeBindingThreadSafe(project({ '@tensorflow/tfjs-node': { patches: [THREAD_SAFETY_PATCH] } }))).toBe(true);
  });

  it('is false for a build without the patch, and for a prebuilt addon with no record', () => {
    expect(nativeBindingThreadSafe(project({ '@tensorflow/tfjs-node': { builtWith: 'scripts/native-setup.sh' } }))).toBe(false);
    expect(nativeBindingThreadSafe(project({ '@tensorflow/tfjs-node': { patches: ['other.patch'] } }))).toBe(false);
    expect(nativeBindingThreadSafe(project({ '@tensorflow/tfjs-node': null }))).toBe(false);
  });

  it('asks the package the backend loads first: tfjs-node-gpu before tfjs-node', () => {
    const both = { '@tensorflow/tfjs-node-gpu': null, '@tensorflow/tfjs-node': { patches: [THREAD_SAFETY_PATCH] } };
    expect(nativeBindingThreadSafe(project(both))).toBe(false);
  });
});
