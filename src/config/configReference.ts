/**
 * The README's configuration reference, generated from the schema so that it cannot drift:
 * every key with its type, range, default and meaning, and the environment variables.
 * `scripts/config-reference.ts` writes it between the markers below; a unit test checks that the
 * README holds what this generates now.
 */
import { z } from 'zod';
import { ENV_OVERRIDES } from './envOverrides.ts';
import { configSchema } from './schema.ts';

export const REFERENCE_START = '<!-- config-reference: generated from src/config/*Schema.ts by `npx tsx scripts/config-reference.ts`; edit the schema, not this block -->';
export const REFERENCE_END = '<!-- /config-reference -->';

interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  minItems?: number;
  default?: unknown;
  description?: string;
  not?: unknown;
}

const cell = (s: string) => s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');

function range(n: Node): string {
  const min = n.minimum !== undefined && n.minimum > -Number.MAX_VALUE ? n.minimum : undefined;
  const max = n.maximum !== undefined && n.maximum < Number.MAX_SAFE_INTEGER ? n.maximum : undefined;
  if (min !== undefined && max !== undefined) return ` ${min} to ${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return max !== undefined ? ` ≤ ${max}` : '';
}

const plural = (t: string) => (/^(non-empty string|string|rule|object)$/.test(t) ? `${t}s` : t);

/** The type of a value in words, e.g. `integer ≥ 100`, `one of avro, confluent, json`, `map of string`. */
function typeText(n: Node): string {
  if (n.not !== undefined) return 'refused';
  if (n.enum) return `one of ${n.enum.join(', ')}`;
  if (n.const !== undefined) return JSON.stringify(n.const);
  if (n.anyOf || n.oneOf) {
    const parts = (n.anyOf ?? n.oneOf)!;
    return parts.every((p) => p.type === 'object') ? 'rule' : parts.map(typeText).join(' or ');
  }
  if (Array.isArray(n.type)) return n.type.join(' or ');
  switch (n.type) {
    case 'integer':
    case 'number':
      return `${n.type}${range(n)}`;
    case 'string':
      if (n.pattern) return `string matching \`${n.pattern}\``;
      return n.minLength ? 'non-empty string' : 'string';
    case 'array':
      return `${n.minItems ? 'non-empty ' : ''}array of ${n.items ? plural(typeText(n.items)) : 'values'}`;
    case 'object':
      return typeof n.additionalProperties === 'object' ? `map of ${plural(typeText(n.additionalProperties))}` : 'object';
    default:
      return String(n.type);
  }
}

function rows(n: Node, path: string[]): string[] {
  const key = path.join('.');
  if (n.type === 'object' && n.properties) {
    const head = path.length > 0 ? [`| **\`${key}\`** | section | | ${cell(n.description ?? '')} |`] : [];
    return [...head, ...Object.entries(n.properties).flatMap(([k, child]) => rows(child, [...path, k]))];
  }
  const dflt = n.default === undefined ? '' : `\`${cell(JSON.stringify(n.default))}\``;
  return [`| \`${key}\` | ${cell(typeText(n))} | ${dflt} | ${cell(n.description ?? '')} |`];
}

/** The table of environment variables that override keys. */
export function envTable(): string {
  const lines = ENV_OVERRIDES.map((o) => `| \`${o.name}\` | \`${o.key}\`${o.note ? ` (${cell(o.note)})` : ''} |`);
  return ['| Environment variable | Key |', '|---|---|', ...lines].join('\n');
}

/** Every key of the schema, in schema order. */
export function keyTable(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  return ['| Key | Type | Default | Meaning |', '|---|---|---|---|', ...rows(root, [])].join('\n');
}

/** The block between the markers, markers included. */
export function configReference(): string {
  return [
    REFERENCE_START,
    '',
    envTable(),
    '',
    '<details><summary>Every key: its type, range, default and meaning</summary>',
    '',
    keyTable(),
    '',
    '</details>',
    '',
    REFERENCE_END,
  ].join('\n');
}

/** `readme` with its reference block replaced by `block`; throws when the markers are missing. */
export function withReference(readme: string, block = configReference()): string {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start) throw new Error(`README has no config reference block (${REFERENCE_START} ... ${REFERENCE_END})`);
  return readme.slice(0, start) + block + readme.slice(end + REFERENCE_END.length);
}
