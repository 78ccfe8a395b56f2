/**
 * The live `diffwatch top` app on ink: a new frame every `intervalMs` (each read starts after the
 * previous one ended, so a slow InfluxDB never stacks requests), `q` or Ctrl-C to quit. On a
 * terminal it draws on the alternate screen, like top(1), and gives the screen, the cursor and
 * the terminal's mode back on the way out. `once` prints one frame and returns instead.
 *
 * @example
 * const code = await runTop({ source, intervalMs: 1_000, once: false });
 */
import { render, renderToString, useApp, useInput, useStdin, useStdout } from 'ink';
import React, { useEffect, useState, type ReactElement } from 'react';
import type { Frame } from './topModel.ts';
import type { TopSource } from './topSource.ts';
import { topView } from './topView.ts';

const h = React.createElement;

/** xterm's alternate screen buffer (DECSET 1049): what was on the terminal comes back on exit. */
const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';

/** Lines around the entity rows: title, blank, column header, "more", blank, 4 pipeline lines, and one spare. */
const CHROME_LINES = 11;

export interface RunTopOptions {
  source: TopSource;
  /** ms between refreshes. */
  intervalMs: number;
  /** Print one frame and return. */
  once: boolean;
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
}

function TopApp({ source, intervalMs }: { source: TopSource; intervalMs: number }): ReactElement {
  const { exit } = useApp();
  const { isRawModeSupported } = useStdin();
  const { stdout } = useStdout();
  const [frame, setFrame] = useState<Frame>();
  useInput(
    (input) => {
      if (input === 'q' || input === 'Q') exit();
    },
    { isActive: isRawModeSupported },
  );
  useEffect(() => {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      const next = await source.next();
      if (stopped) return;
      setFrame(next);
      timer = setTimeout(() => void tick(), intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [source, intervalMs]);
  return topView({ frame, maxRows: Math.max(1, (stdout.rows || 40) - CHROME_LINES), keys: isRawModeSupported });
}

/** One frame as text: two reads one interval apart when the endpoint answers, so rates are known. */
async function printOnce(source: TopSource, intervalMs: number, stdout: NodeJS.WriteStream): Promise<number> {
  let frame = await source.next();
  if (frame.ops.reachable) {
    await new Promise((r) => setTimeout(r, intervalMs));
    frame = await source.next();
  }
  stdout.write(renderToString(topView({ frame }), { columns: stdout.columns || 120 }) + '\n');
  if (!frame.influx.ok) {
    process.stderr.write(`diffwatch top: InfluxDB: ${frame.influx.error}\n`);
    return 1;
  }
  return 0;
}

/** Resolves to the exit code: 0 after `q` or Ctrl-C; with `once`, 1 when InfluxDB could not be read. */
export async function runTop(opts: RunTopOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  if (opts.once) return printOnce(opts.source, opts.intervalMs, stdout);
  const alt = stdout.isTTY === true;
  const leave = () => void (alt && stdout.write(LEAVE_ALT_SCREEN));
  if (alt) stdout.write(ENTER_ALT_SCREEN);
  // Should anything end the process early, the terminal still gets its screen back.
  process.once('exit', leave);
  const app = render(h(TopApp, { source: opts.source, intervalMs: opts.intervalMs }), { stdout, stdin, exitOnCtrlC: true, patchConsole: false });
  // Without a terminal on stdin there is no raw mode: Ctrl-C arrives as SIGINT.
  const quit = () => app.unmount();
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  try {
    await app.waitUntilExit();
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    process.off('exit', leave);
    leave();
  }
  return 0;
}
