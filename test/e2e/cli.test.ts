/**
 * The command line as a process (`node src/cli.ts ...`) against the API-server emulator with RBAC and the Slack
 * emulator: what an operator sees and the exit codes scripts branch on. The webhook URL never appears in any output.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { loadFixture } from '../fixtures/index.ts';
import { startApiServer, type ApiServer, type PolicyRule } from '../world/apiserver.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { writeKubeconfigFile } from '../world/kubeconfig.ts';
import { startSlack, type SlackEmulator } from '../world/slack.ts';
import { tls } from '../world/tls.ts';

const REPO = new URL('../..', import.meta.url).pathname;
const SECRET = 's3cr3tW3bh00kT0k3nXYZ';
/** The second webhook, a route's: its token must not appear in any output either. */
const ROUTE_SECRET = 'r0ut3T34mAT0k3nQRS';
const HOME = mkdtempSync(join(tmpdir(), 'kja-cli-home-'));

/** deploy/role.yaml's rules, bound in `default` as its RoleBinding does. */
const deployedRules = (loadFixture(join(REPO, 'deploy/role.yaml')).find((d) => (d as { kind?: string }).kind === 'Role') as { rules: PolicyRule[] }).rules
  .map((rule) => ({ ...rule, namespaces: ['default'] }));
const withoutPatch = deployedRules.map((rule) => ({ ...rule, verbs: rule.verbs.filter((verb) => verb !== 'patch') }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const outputs: string[] = [];

/** Runs the CLI with a clean environment: only what the test gives, plus PATH and a HOME without ~/.kube. */
function cli(args: string[], env: Record<string, string> = {}, nodeOptions: string[] = []): Promise<Run> {
  const child = spawn(process.execPath, [...nodeOptions, 'src/cli.ts', ...args], { cwd: REPO, env: { PATH: process.env.PATH ?? '', HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      outputs.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The table's row for a verb and resource: its cells. */
function row(stdout: string, verb: string, resource: string): string[] | undefined {
  return stdout.split('\n').map((line) => line.trim().split(/\s{2,}/)).find((cells) => cells[0] === verb && cells[1] === resource);
}

let api: ApiServer;
let slack: SlackEmulator;
/** The route team-a's channel. */
let teamA: SlackEmulator;
const daemons: Daemon[] = [];

before(async () => {
  api = await startApiServer({ rbac: deployedRules });
  slack = await startSlack();
  teamA = await startSlack({ path: `/services/T0000TEST/B0000TEAM/${ROUTE_SECRET}` });
});
afterEach(() => api.setRbac(deployedRules));
after(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
  for (const text of [...outputs, ...daemons.map((d) => d.output)]) {
    assert.doesNotMatch(text, new RegExp(SECRET), 'the webhook URL appeared in the output');
    assert.doesNotMatch(text, new RegExp(ROUTE_SECRET), 'a route\'s webhook URL appeared in the output');
  }
  await teamA.close();
  await slack.close();
  await api.close();
});

describe('kube-job-alerts check', () => {
  it('prints the server, its version and a table of granted permissions, and exits 0', async () => {
    const run = await cli(['check'], { KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^Configuration: +valid$/m);
    assert.match(run.stdout, new RegExp(`^Slack webhook: +set \\(127\\.0\\.0\\.1:${slack.port}…nXYZ\\)$`, 'm'));
    assert.ok(run.stdout.includes(`API server:     ${api.url} (v1.32.0-emulator)`), run.stdout);
    assert.match(run.stdout, /^VERB +RESOURCE +NAMESPACE +ALLOWED +WHY NEEDED$/m);
    for (const [verb, resource] of [['list', 'jobs.batch'], ['watch', 'jobs.batch'], ['patch', 'jobs.batch'], ['get', 'cronjobs.batch'], ['list', 'cronjobs.batch'], ['watch', 'cronjobs.batch'], ['list', 'pods'], ['list', 'events'], ['get', 'pods/log']]) {
      assert.deepEqual(row(run.stdout, verb!, resource!)?.slice(2, 4), ['default', 'yes'], `${verb} ${resource}`);
    }
    assert.match(run.stdout, /All 11 permissions granted/);
  });

  it('exits 1 and says what will not work when patch is not granted; no webhook is needed', async () => {
    api.setRbac(withoutPatch);
    const run = await cli(['check'], { KUBECONFIG: api.kubeconfigPath });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^Slack webhook: +not set/m);
    assert.deepEqual(row(run.stdout, 'patch', 'jobs.batch')?.slice(2, 4), ['default', 'NO']);
    assert.deepEqual(row(run.stdout, 'list', 'jobs.batch')?.slice(2, 4), ['default', 'yes']);
    assert.match(run.stdout, /Cannot patch jobs in default: alerts will be sent, but a restart may send them again; grant patch or set STATE_STORE=memory/);
  });

  it('checks at the cluster scope for WATCH_NAMESPACES=*, which a Role does not grant', async () => {
    const run = await cli(['check'], { KUBECONFIG: api.kubeconfigPath, WATCH_NAMESPACES: '*', STATE_STORE: 'memory' });
    assert.equal(run.code, 1);
    assert.deepEqual(row(run.stdout, 'list', 'jobs.batch')?.slice(2, 4), ['*', 'NO']);
    assert.equal(row(run.stdout, 'patch', 'jobs.batch'), undefined, 'no patch with the memory store');
  });

  it('says why the API server cannot be reached: fetch failed unwrapped to its cause, exit 1', async () => {
    // A port nothing listens on: the client's `fetch failed` hides the refused connection one cause down.
    const closed = await startSlack();
    await closed.close();
    const kubeconfig = writeKubeconfigFile(HOME, 'unreachable.json', { server: `https://127.0.0.1:${closed.port}`, caPem: tls.ca, token: 't', namespace: 'default' });
    const run = await cli(['check'], { KUBECONFIG: kubeconfig });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`API server: +https://127.0.0.1:${closed.port}: not reachable: .*ECONNREFUSED 127.0.0.1:${closed.port}`));
  });

  it('refuses bad configuration for the daemon before loading the Kubernetes client (a tenth of a second, not a second)', async () => {
    // A module hook that says which modules were loaded from @kubernetes/client-node.
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { registerHooks } from 'node:module'; registerHooks({ resolve(s, c, next) { const r = next(s, c); " +
        "if (r.url.includes('@kubernetes/client-node')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; } });",
    )}`;
    const bad = await cli(['run'], { KUBECONFIG: api.kubeconfigPath, HTTP_PORT: 'eighty', DRY_RUN: 'true' }, ['--import', hook]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /HTTP_PORT: must be a whole number from 0 to 65535/);
    assert.doesNotMatch(bad.stderr, /LOADED/);
    // The hook does see the client when a command loads it.
    const badCheck = await cli(['check'], { KUBECONFIG: api.kubeconfigPath, HTTP_PORT: 'eighty' }, ['--import', hook]);
    assert.equal(badCheck.code, 1);
    assert.doesNotMatch(badCheck.stderr, /LOADED/); // check, too, reads its configuration first
    const started = await cli(['check'], { KUBECONFIG: api.kubeconfigPath, DRY_RUN: 'true' }, ['--import', hook]);
    assert.match(started.stderr, /LOADED .*@kubernetes\/client-node/);
  });

  it('refuses bad configuration with the daemon\'s own messages, exit 1', async () => {
    const run = await cli(['check'], { KUBECONFIG: api.kubeconfigPath, HTTP_PORT: 'eighty', SLACK_WEBHOOK_URL: `http://example.com/${SECRET}` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /HTTP_PORT: must be a whole number from 0 to 65535/);
    assert.match(run.stderr, /SLACK_WEBHOOK_URL: .*must be an https:\/\/ URL/);
  });
});

describe('kube-job-alerts test-alert', () => {
  it('sends one sample alert that Slack accepts, with valid blocks, and exits 0', async () => {
    const before = slack.received.length;
    const run = await cli(['test-alert'], { SLACK_WEBHOOK_URL: slack.url, CLUSTER_NAME: 'e2e' });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Slack answered: ok \(1 attempt\)/);
    const posts = slack.received.slice(before);
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.status, 200);
    assert.deepEqual(slack.violations, []);
    assert.equal(posts[0]!.body.blocks[0].type, 'header');
    assert.match(posts[0]!.body.text, /Job failed: .*BackoffLimitExceeded/);
    assert.match(posts[0]!.rawBody, /test message from `kube-job-alerts test-alert`/);
    assert.match(posts[0]!.rawBody, /e2e/);
  });

  it('prints Slack\'s error and exits 1 when the webhook is gone (404 no_service), without retrying', async () => {
    const before = slack.received.length;
    slack.script(404);
    const run = await cli(['test-alert'], { SLACK_WEBHOOK_URL: slack.url });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no_service \(HTTP 404, 1 attempt\)/);
    assert.equal(slack.received.length, before + 1);
  });

  it('says why, and exits 1 without retrying, when the webhook\'s certificate is not trusted', async () => {
    const untrusted = await startSlack({ tls: 'untrusted' });
    try {
      const run = await cli(['test-alert'], { SLACK_WEBHOOK_URL: untrusted.url });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /retrying will not help: fetch failed: unable to verify the first certificate.* \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) \(tls_unable_to_verify_leaf_signature, 1 attempt\)/);
    } finally {
      await untrusted.close();
    }
  });

  it('retries a 503 like the daemon does', async () => {
    const before = slack.received.length;
    slack.script(503);
    const run = await cli(['test-alert'], { SLACK_WEBHOOK_URL: slack.url });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Slack answered: ok \(2 attempts\)/);
    assert.deepEqual(slack.received.slice(before).map((post) => post.status), [503, 200]);
  });

  it('with --dry-run prints the payload and posts nothing', async () => {
    const before = slack.received.length;
    const run = await cli(['test-alert', '--dry-run'], { SLACK_WEBHOOK_URL: slack.url });
    assert.equal(run.code, 0);
    const payload = JSON.parse(run.stdout);
    assert.equal(payload.blocks[0].type, 'header');
    assert.equal(slack.received.length, before);
  });
});

describe('routes: check and test-alert --route, with two webhooks', () => {
  const routed = (): Record<string, string> => ({
    KUBECONFIG: api.kubeconfigPath,
    SLACK_WEBHOOK_URL: slack.url,
    SLACK_ROUTE_TEAM_A: teamA.url,
    NAMESPACE_ROUTES: 'team-a-*=team-a',
    LINK_TEMPLATES: 'Logs=https://logs.example/?ns={namespace}&pod={pod}',
  });

  it('check prints every route by fingerprint and what is watched, and posts nothing', async () => {
    const before = [slack.received.length, teamA.received.length];
    const run = await cli(['check'], { ...routed(), JOB_LABEL_SELECTOR: 'alerts notin (off)' });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^Routes: +team-a \\(127\\.0\\.0\\.1:${teamA.port}…nQRS\\)$`, 'm'));
    assert.match(run.stdout, /^By namespace: +team-a-\* -> team-a, else default$/m);
    assert.match(run.stdout, /^Links: +Logs$/m);
    assert.match(run.stdout, /^Watching: +default \(STATE_STORE=annotation/m);
    assert.match(run.stdout, /^Jobs: +Jobs whose labels match alerts notin \(off\)$/m);
    assert.deepEqual([slack.received.length, teamA.received.length], before);
  });

  it('check, cluster-wide: the exclusions, and Namespace annotations read', async () => {
    const run = await cli(['check'], { ...routed(), WATCH_NAMESPACES: '*', EXCLUDE_NAMESPACES: 'kube-system,sandbox-*', NAMESPACE_ANNOTATIONS: 'true' });
    assert.match(run.stdout, /^Watching: +all namespaces except kube-system, sandbox-\* /m);
    assert.match(run.stdout, /^Namespaces: +their route, mention and runbook annotations are read/m);
    // deploy/role.yaml's Role grants nothing at the cluster scope: every row is NO, namespaces' too.
    assert.deepEqual(row(run.stdout, 'list', 'namespaces')?.slice(2, 4), ['*', 'NO']);
    assert.deepEqual(row(run.stdout, 'watch', 'namespaces')?.slice(2, 4), ['*', 'NO']);
    assert.deepEqual(row(run.stdout, 'get', 'namespaces')?.slice(2, 4), ['*', 'NO']);
    assert.equal(run.code, 1);
    const without = await cli(['check'], { ...routed(), WATCH_NAMESPACES: '*' });
    assert.match(without.stdout, /^Namespaces: +their annotations are not read \(NAMESPACE_ANNOTATIONS=true/m);
    assert.equal(row(without.stdout, 'list', 'namespaces'), undefined);
  });

  it('check refuses a malformed route URL, naming the variable, not the URL', async () => {
    const run = await cli(['check'], { ...routed(), SLACK_ROUTE_TEAM_A: `http://example.com/${ROUTE_SECRET}` });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^kube-job-alerts: SLACK_ROUTE_TEAM_A: must be an https:\/\/ URL \(value not shown: it is a secret\)$/m);
  });

  it('check refuses NAMESPACE_ROUTES naming an unknown route, and a bad JOB_LABEL_SELECTOR', async () => {
    const run = await cli(['check'], { ...routed(), NAMESPACE_ROUTES: 'team-b-*=team-b', JOB_LABEL_SELECTOR: 'app in prod' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /NAMESPACE_ROUTES: unknown route team-b \(configured: default, team-a;/);
    assert.match(run.stderr, /JOB_LABEL_SELECTOR: not a label selector the API server accepts: found "prod" after app in\/notin, expected: "\("/);
  });

  it('test-alert --route team-a posts to that webhook only, with the link buttons', async () => {
    const before = [slack.received.length, teamA.received.length];
    const run = await cli(['test-alert', '--route', 'team-a'], routed());
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`^Sending a sample alert to route team-a \\(127\\.0\\.0\\.1:${teamA.port}…nQRS\\)`, 'm'));
    assert.match(run.stdout, /Slack answered: ok \(1 attempt\)/);
    assert.equal(slack.received.length, before[0], 'nothing reached the default webhook');
    const posts = teamA.received.slice(before[1]);
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.status, 200);
    assert.deepEqual(teamA.violations, []);
    assert.deepEqual(posts[0]!.body.blocks.at(-1).elements.map((button: { url: string }) => button.url), ['https://logs.example/?ns=example&pod=nightly-report-29414040-x7k2p']);
  });

  it('test-alert --route default (and without --route) posts to SLACK_WEBHOOK_URL only', async () => {
    const before = [slack.received.length, teamA.received.length];
    for (const args of [['test-alert', '--route', 'default'], ['test-alert']]) {
      const run = await cli(args, routed());
      assert.equal(run.code, 0, run.stdout + run.stderr);
    }
    assert.deepEqual([slack.received.length - before[0]!, teamA.received.length - before[1]!], [2, 0]);
  });

  it('test-alert --route with an unknown name: usage error 2 naming it, nothing posted', async () => {
    const before = [slack.received.length, teamA.received.length];
    const run = await cli(['test-alert', '--route', 'team-b'], routed());
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /unknown route "team-b": the configured routes are default, team-a/);
    assert.deepEqual([slack.received.length, teamA.received.length], before);
  });

  it('test-alert --route to a revoked webhook: Slack\'s error, exit 1, the default untouched', async () => {
    const before = slack.received.length;
    teamA.script(404);
    const run = await cli(['test-alert', '--route', 'TEAM_A'], routed());
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Slack refused the message: no_service \(HTTP 404, 1 attempt\)/);
    assert.equal(slack.received.length, before);
  });
});

describe('usage', () => {
  it('--help lists the commands and the environment, exit 0', async () => {
    const run = await cli(['--help']);
    assert.equal(run.code, 0);
    for (const word of ['run', 'check', 'test-alert', '--dry-run', 'SLACK_WEBHOOK_URL', 'WATCH_NAMESPACES', 'LEASE_NAME']) assert.ok(run.stdout.includes(word), word);
  });

  it('--version prints package.json\'s version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout.trim(), `kube-job-alerts ${version}`);
  });

  it('an unknown command or flag prints the usage on stderr and exits 2', async () => {
    const cases = [['frobnicate'], ['--frobnicate'], ['check', 'extra']];
    const runs = await Promise.all(cases.map((args) => cli(args)));
    for (const [i, run] of runs.entries()) {
      assert.equal(run.code, 2, cases[i]!.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /Usage: kube-job-alerts/);
    }
  });
});

describe('the daemon at start', () => {
  it('logs one warn line per missing patch permission (jobs, cronjobs), and still starts alerting', async () => {
    api.setRbac(withoutPatch);
    const d = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0' });
    daemons.push(d);
    const warning = await d.waitForLog((line) => line.level === 'warn' && line.module === 'permissions');
    assert.equal(warning.msg, 'missing permission: cannot patch jobs in default: alerts will be sent, but a restart may send them again; grant patch or set STATE_STORE=memory');
    assert.deepEqual([warning.verb, warning.resource, warning.namespace], ['patch', 'jobs', 'default']);
    await d.ready();
    const warnings = d.logs.filter((line) => line.module === 'permissions' && line.level === 'warn');
    assert.deepEqual(warnings.map((line) => `${line.verb} ${line.resource}`), ['patch jobs', 'patch cronjobs']);
    assert.equal((await d.stop()).code, 0);
  });
});
