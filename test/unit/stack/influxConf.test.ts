import { describe, expect, it } from 'vitest';
import { renderInfluxConf } from '../../../src/stack/influxConf.ts';

/** A minimal TOML reader for the flat `key = value` sections we render. */
function parseToml(text: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = { '': {} };
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] ??= {};
      continue;
    }
    const m = /^([\w-]+) = (.+)$/.exec(line);
    expect(m, `unparsable line: ${line}`).not.toBeNull();
    out[section][m![1]] = JSON.parse(m![2]);
  }
  return out;
}

describe('renderInfluxConf', () => {
  const dirs = { metaDir: '/st/influxdb/meta', dataDir: '/st/influxdb/data', walDir: '/st/influxdb/wal' };
  const conf = parseToml(renderInfluxConf({ httpPort: 18086, rpcPort: 18088, ...dirs }));

  it('binds HTTP and RPC to loopback at the given ports', () => {
    expect(conf.http['bind-address']).toBe('127.0.0.1:18086');
    expect(conf.http.enabled).toBe(true);
    expect(conf['']['bind-address']).toBe('127.0.0.1:18088');
  });

  it('keeps meta, data and wal under the stack dir', () => {
    expect(conf.meta.dir).toBe(dirs.metaDir);
    expect(conf.data.dir).toBe(dirs.dataDir);
    expect(conf.data['wal-dir']).toBe(dirs.walDir);
  });

  it('disables usage reporting and the _internal monitor store', () => {
    expect(conf['']['reporting-disabled']).toBe(true);
    expect(conf.monitor['store-enabled']).toBe(false);
  });

  it('quotes paths so that spaces and quotes survive', () => {
    const odd = parseToml(renderInfluxConf({ httpPort: 1, rpcPort: 2, metaDir: '/a b/"m"', dataDir: '/d', walDir: '/w' }));
    expect(odd.meta.dir).toBe('/a b/"m"');
  });
});
