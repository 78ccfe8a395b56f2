/**
 * Which model scores an entity, from the `scorer.diffusion.models` rules: the first rule whose
 * `match` finds the entity id wins; an entity no rule matches uses `modelDir`, or a model of
 * its own when there is none. The answer per entity is cached (rules are frozen config).
 *
 * Example:
 *   const assign = compileAssignment({ modelDir: 'models/shared', models: [{ match: '^pump-', use: 'entity' }] });
 *   assign('pump-7');  // { kind: 'trained', key: 'entity:pump-7' }
 *   assign('fan-1');   // { kind: 'dir', dir: 'models/shared', key: 'dir:models/shared', perEntityNormalization: false }
 */
import type { ModelAssignment } from '../config/schema.ts';

export type ModelRoute =
  /** A checkpoint the operator trained; `key` is `norm:<entity>` when the entity has its own scaler. */
  | { kind: 'dir'; dir: string; key: string; perEntityNormalization: boolean }
  /** A model the service trains and fine-tunes: `entity:<id>` or `group:<name>`. */
  | { kind: 'trained'; key: string };

export function compileAssignment(cfg: { modelDir: string | null; models: readonly ModelAssignment[] }): (entityId: string) => ModelRoute {
  const rules = cfg.models.map((r) => ({ rule: r, re: new RegExp(r.match) }));
  const cache = new Map<string, ModelRoute>();
  function route(entityId: string): ModelRoute {
    const hit = rules.find(({ re }) => re.test(entityId))?.rule;
    if (!hit) return cfg.modelDir !== null ? { kind: 'dir', dir: cfg.modelDir, key: `dir:${cfg.modelDir}`, perEntityNormalization: false } : { kind: 'trained', key: `entity:${entityId}` };
    switch (hit.use) {
      case 'dir':
        return hit.normalization === 'entity' ? { kind: 'dir', dir: hit.dir, key: `norm:${entityId}`, perEntityNormalization: true } : { kind: 'dir', dir: hit.dir, key: `dir:${hit.dir}`, perEntityNormalization: false };
      case 'entity':
        return { kind: 'trained', key: `entity:${entityId}` };
      case 'group':
        return { kind: 'trained', key: `group:${hit.group}` };
    }
  }
  return (entityId) => {
    let r = cache.get(entityId);
    if (!r) cache.set(entityId, (r = route(entityId)));
    return r;
  };
}
