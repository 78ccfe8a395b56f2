import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isListening, waitFor, WaitTimeoutError } from '../../../src/stack/waitFor.ts';

describe('waitFor', () => {
  it('returns the first defined probe value, retrying through undefined and errors', async () => {
    let calls = 0;
    const v = await waitFor(
      async () => {
        calls++;
        if (calls === 1) throw new Error('not yet');
        return calls < 3 ? undefined : `ready after ${calls}`;
      },
      { timeoutMs: 5_000, intervalMs: 1, what: 'x' },
    );
    expect(v).toBe('ready after 3');
  });

  it('gives up after the deadline, naming what it waited for and the last error', async () => {
    const err = await waitFor(async () => {
      throw new Error('connection refused');
    }, { timeoutMs: 30, intervalMs: 5, what: 'kafka metadata' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/timed out after 30 ms waiting for kafka metadata \(last error: connection refused\)/);
  });

  it('stops at once when abortIf throws', async () => {
    let probes = 0;
    const err = await waitFor(async () => void probes++, {
      timeoutMs: 60_000,
      intervalMs: 1,
      what: 'x',
      abortIf: () => {
        if (probes >= 2) throw new Error('process exited');
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('process exited');
    expect(probes).toBe(2);
  });
});

describe('isListening', () => {
  it('sees a listening socket, and not after it closes', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    expect(await isListening(port)).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await isListening(port)).toBe(false);
  });
});
