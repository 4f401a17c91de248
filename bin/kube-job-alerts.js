#!/usr/bin/env node
// The `kube-job-alerts` command (package.json bin, and what `npm start` runs). Plain JavaScript, so that any Node.js
// can read it and say which version is needed (require-node.js) instead of failing on the first .ts file.
//
// From a checkout it runs src/cli.ts directly (Node.js strips the types): no build step after `npm ci`. In a built
// copy without src/ (the image, a package) it runs the compiled dist/cli.js. Either way it stays this process, so
// signals sent to it (or to `npm start`, which execs node) reach the daemon.
import { existsSync } from 'node:fs';
import { requireNode } from './require-node.js';

requireNode();
const source = new URL('../src/cli.ts', import.meta.url);
const cli = await import(existsSync(source) ? source.href : new URL('../dist/cli.js', import.meta.url).href);
cli.runCommandLine(process.argv.slice(2));
