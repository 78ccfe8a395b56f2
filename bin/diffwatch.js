#!/usr/bin/env node
// Entry point for `npx diffwatch`. The sources are TypeScript run through tsx,
// so the CLI works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
