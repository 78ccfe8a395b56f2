/**
 * The README's subscriber snippets are excerpts of the subscribers the interop tests run
 * (test/integration/interop/anomalySubscribers.test.ts): each fenced block that follows a
 * `<!-- snippet: <path> -->` line must be a run of consecutive lines of that file, up to one
 * indentation taken off every line (so an excerpt of a method body reads unindented).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

interface Snippet {
  path: string;
  lines: string[];
}

function readmeSnippets(markdown: string): Snippet[] {
  const re = /^<!-- snippet: (\S+) -->\n```[a-z]*\n([\s\S]*?)^```$/gm;
  return [...markdown.matchAll(re)].map((m) => ({ path: m[1], lines: m[2].replace(/\n$/, '').split('\n') }));
}

/** Whether `excerpt` equals lines [i, i + n) of `file` for some i, with one common indentation removed. */
function isExcerpt(excerpt: readonly string[], file: readonly string[]): boolean {
  for (let i = 0; i + excerpt.length <= file.length; i++) {
    if (!file[i].endsWith(excerpt[0])) continue;
    const indent = file[i].slice(0, file[i].length - excerpt[0].length);
    if (indent.trim() !== '') continue;
    if (excerpt.every((line, k) => (line === '' ? file[i + k].trim() === '' : file[i + k] === indent + line))) return true;
  }
  return false;
}

describe('README subscriber snippets', () => {
  const snippets = readmeSnippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  it('show a subscriber in Java, Python and Node', () => {
    expect(snippets.map((s) => s.path).sort()).toEqual(['test/interop/java/src/AnomalySubscriber.java', 'test/interop/node/anomalySubscriber.mjs', 'test/interop/python/anomaly_subscriber.py']);
    for (const s of snippets) expect(s.lines.length, s.path).toBeGreaterThan(5);
  });

  it('are excerpts of the files the interop tests run', () => {
    for (const s of snippets) expect(isExcerpt(s.lines, readFileSync(join(ROOT, s.path), 'utf8').split('\n')), s.path).toBe(true);
  });

  it('tells an excerpt from a changed line', () => {
    const file = ['class A {', '  void f() {', '    int x = 1;', '', '    g(x);', '  }', '}'];
    expect(isExcerpt(['int x = 1;', '', 'g(x);'], file)).toBe(true);
    expect(isExcerpt(['void f() {', '  int x = 1;'], file)).toBe(true);
    expect(isExcerpt(['int x = 2;', '', 'g(x);'], file)).toBe(false);
    expect(isExcerpt(['int x = 1;', 'g(x);'], file)).toBe(false);
    expect(isExcerpt(['  int x = 1;'], ['int x = 1;'])).toBe(false);
  });
});
