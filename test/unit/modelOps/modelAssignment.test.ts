/** Entity → model routing from the `scorer.diffusion.models` rules. */
import { describe, expect, it } from 'vitest';
import type { ModelAssignment } from '../../../src/config/schema.ts';
import { compileAssignment } from '../../../src/modelOps/modelAssignment.ts';

const RULES: ModelAssignment[] = [
  { match: '^pump-1', use: 'group', group: 'big-pumps' },
  { match: '^pump-', use: 'entity' },
  { match: '^fan-', use: 'dir', dir: 'models/fans', normalization: 'entity' },
  { match: 'chiller', use: 'dir', dir: 'models/chillers', normalization: 'model' },
  { match: '^fan-9', use: 'group', group: 'never-reached' },
];

describe('compileAssignment', () => {
  it('the first matching rule wins, in the order the rules are written', () => {
    const assign = compileAssignment({ modelDir: 'models/shared', models: RULES });
    // pump-12 matches rules 0 and 1; fan-9 matches rules 2 and 4.
    expect(assign('pump-12')).toEqual({ kind: 'trained', key: 'group:big-pumps' });
    expect(assign('pump-2')).toEqual({ kind: 'trained', key: 'entity:pump-2' });
    expect(assign('fan-9')).toEqual({ kind: 'dir', dir: 'models/fans', key: 'norm:fan-9', perEntityNormalization: true });
    const reversed = compileAssignment({ modelDir: 'models/shared', models: [RULES[1], RULES[0]] });
    expect(reversed('pump-12')).toEqual({ kind: 'trained', key: 'entity:pump-12' });
  });

  it('match is a search, not a whole-string match', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    expect(assign('site-3/chiller-2')).toEqual({ kind: 'dir', dir: 'models/chillers', key: 'dir:models/chillers', perEntityNormalization: false });
  });

  it('an entity no rule matches uses modelDir when it is set', () => {
    const assign = compileAssignment({ modelDir: 'models/shared', models: RULES });
    expect(assign('boiler-1')).toEqual({ kind: 'dir', dir: 'models/shared', key: 'dir:models/shared', perEntityNormalization: false });
    expect(compileAssignment({ modelDir: 'models/shared', models: [] })('pump-1')).toEqual({ kind: 'dir', dir: 'models/shared', key: 'dir:models/shared', perEntityNormalization: false });
  });

  it('an entity no rule matches gets a model of its own when modelDir is null', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    expect(assign('boiler-1')).toEqual({ kind: 'trained', key: 'entity:boiler-1' });
    expect(assign('site/boiler 2')).toEqual({ kind: 'trained', key: 'entity:site/boiler 2' });
  });

  it('a dir rule with entity normalization gives each entity its own norm key over the same checkpoint', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    const a = assign('fan-1');
    const b = assign('fan-2');
    expect(a).toEqual({ kind: 'dir', dir: 'models/fans', key: 'norm:fan-1', perEntityNormalization: true });
    expect(b).toEqual({ kind: 'dir', dir: 'models/fans', key: 'norm:fan-2', perEntityNormalization: true });
  });

  it('a dir rule with model normalization shares one key between its entities', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    expect(assign('chiller-1')).toEqual(assign('chiller-2'));
    expect(assign('chiller-1')).toMatchObject({ key: 'dir:models/chillers', perEntityNormalization: false });
  });

  it('a group rule maps every matching entity to the group key', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    expect(assign('pump-10')).toEqual({ kind: 'trained', key: 'group:big-pumps' });
    expect(assign('pump-199')).toEqual({ kind: 'trained', key: 'group:big-pumps' });
  });

  it('answers the same entity the same way every time', () => {
    const assign = compileAssignment({ modelDir: null, models: RULES });
    expect(assign('pump-2')).toBe(assign('pump-2'));
  });
});
