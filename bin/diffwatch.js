#!/usr/bin/env node
// Entry point for `npx diffwatch`. The sources are TypeScript run through tsx,
// so the CLI works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Every command has finished its work (the service has drained, flushed and committed) when
// main returns. Client libraries may still hold sockets or timers (kafkajs keeps reconnect
// timers after disconnect), so exit explicitly once stdout and stderr are flushed.
let pending = 2;
const done = () => --pending === 0 && process.exit(code);
process.stdout.write('', done);
process.stderr.write('', done);
