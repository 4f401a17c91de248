// Plain JavaScript on purpose, and nothing newer than Node.js 14 can run: this is what an older Node.js loads first,
// to say which version is needed before anything fails in a way that names none (on Node.js 20, src/*.ts fails
// with ERR_UNKNOWN_FILE_EXTENSION and `node --test` finds no test files). The version comes from package.json's
// `engines`, the one place it is written. `node bin/require-node.js` checks and exits 1 with the message.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The problem with running on Node.js `found` (a version such as 20.20.2), or undefined when it is new enough. */
export function nodeProblem(found, range) {
  const minimum = /^>=\s*(\d+)\.(\d+)/.exec(range);
  if (!minimum) return `kube-job-alerts: package.json engines.node is "${range}", expected ">=MAJOR.MINOR"`;
  const [major, minor] = found.split('.').map(Number);
  const [needMajor, needMinor] = [Number(minimum[1]), Number(minimum[2])];
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `kube-job-alerts needs Node.js >= ${needMajor}.${needMinor} (found ${found}): see README`;
}

/** Exits 1 with the message when this Node.js is too old. */
export function requireNode() {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const problem = nodeProblem(process.versions.node, manifest.engines.node);
  if (problem === undefined) return;
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}

// import.meta.main is too new to rely on here.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) requireNode();
