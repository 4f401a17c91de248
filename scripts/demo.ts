/**
 * `npm run demo`: the daemon catching three real kinds of Job failure, live, with no cluster and no Slack.
 *
 * It starts the API-server emulator (test/world) with three running Jobs built from the fixtures' builders and
 * sources, starts the daemon as a child process against it in dry-run mode, and only then makes each Job fail the
 * way the kubelet and the Job controller would (the pod terminates, FailureTarget, then Failed), one at a time, so
 * what it shows is live detection rather than the replay of failures at start. Each dry-run payload the daemon
 * logs is printed as Slack would show it, with its Block Kit Builder link. Then SIGTERM, and the daemon's exit.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { styleText } from 'node:util';
import { loadFixture } from '../test/fixtures/index.ts';
import { startApiServer, type ApiServer } from '../test/world/apiserver.ts';
import { failJob, isoNow, startJob, type RunningJob } from '../test/world/cluster.ts';
import type { SlackPayload } from '../src/slack/format.ts';
import { blocksAsText, mrkdwnAsText, type TextStyle } from './slack-preview.ts';

const REPO = new URL('..', import.meta.url).pathname;
/** Everything, including npm's own start-up, should be over well within the ~15 s a newcomer will wait. */
const DEADLINE_MS = 40_000;
/** A beat between failures in a terminal, so a reader sees them arrive one by one; none when piped (tests). */
const BEAT_MS = process.stdout.isTTY ? 700 : 0;
const style: TextStyle = { bold: (text) => styleText('bold', text), dim: (text) => styleText('dim', text) };
const say = (line = ''): void => void process.stdout.write(`${line}\n`);

interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** How one Job dies: its container's end, then the Job controller's verdict. */
interface Failure {
  readonly title: string;
  readonly exitCode: number;
  readonly containerReason: string;
  readonly log: string;
  readonly jobReason: string;
  readonly jobMessage: (pod: string) => string;
  /** status.failed once the Job controller gives up. */
  readonly failedPods: number;
}

interface Scenario {
  readonly job: RunningJob;
  readonly failure: Failure;
}

/** Three running Jobs, each about to fail in its own way; see each fixture named for where the details come from. */
function seed(api: ApiServer): Scenario[] {
  // kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml: the kubelet's verdict on a container over
  // its memory limit.
  const [oom] = loadFixture('kubernetes-website_assign-memory-resource_OOMKilled-lastState.yaml') as Array<{ lastState: { terminated: { exitCode: number; reason: string } } }>;
  const scheduledAt = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000).toISOString().replace('.000Z', 'Z');
  api.create('cronjobs', {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly-report', namespace: 'batch' },
    spec: { schedule: '0 2 * * *', concurrencyPolicy: 'Forbid', jobTemplate: { spec: { backoffLimit: 2 } } },
  });
  const nightly = startJob(api, {
    namespace: 'batch', cronJob: { name: 'nightly-report', scheduledAt }, startedAt: scheduledAt,
    backoffLimit: 2, container: 'report', image: 'registry.example.com/reports:2.14.0',
  });

  // kube-cleanup-operator-pr48_DeadlineExceeded_status.yaml: a Job active longer than activeDeadlineSeconds; the
  // Job controller deletes its pod, whose process gets SIGTERM (exit 143).
  const [deadline] = loadFixture('kube-cleanup-operator-pr48_DeadlineExceeded_status.yaml') as Array<{ status: { conditions: Array<{ reason: string; message: string }> } }>;
  const deadlineCondition = deadline!.status.conditions[0]!;
  const reindex = startJob(api, {
    namespace: 'shop', name: 'orders-reindex', startedAt: isoNow(-600_000), container: 'reindex', image: 'registry.example.com/shop-tools:5.3.1',
  });
  api.modify('jobs', 'shop', 'orders-reindex', (job) => (job.spec.activeDeadlineSeconds = 600));

  // kubernetes-website_pod-failure-policy_FailJob-manifest-and-messages.yaml: the docs' Job, verbatim spec, and its
  // condition message with this pod's name.
  const [manifest] = loadFixture('kubernetes-website_pod-failure-policy_FailJob-manifest-and-messages.yaml') as Array<{ metadata: { name: string }; spec: Record<string, unknown> & { template: { spec: { containers: Array<{ name: string; image: string; args: string[] }> } } } }>;
  const main = manifest!.spec.template.spec.containers[0]!;
  const policy = startJob(api, {
    name: manifest!.metadata.name, namespace: 'default', startedAt: isoNow(-35_000), container: main.name, image: main.image, backoffLimit: 6,
  });
  api.modify('jobs', 'default', policy.name, (job) => (job.spec = { ...job.spec, ...manifest!.spec, selector: job.spec.selector, template: job.spec.template }));
  const hello = /echo "([^"]+)"/.exec(main.args.join(' '))?.[1] ?? 'Hello world!';

  return [
    {
      job: nightly,
      failure: {
        title: 'a CronJob\'s Job runs out of memory',
        exitCode: oom!.lastState.terminated.exitCode,
        containerReason: oom!.lastState.terminated.reason,
        log: [
          'INFO  nightly-report 2.14.0: report for the previous day, all regions',
          'INFO  fetched 1,204,332 order rows in 41.2 s',
          'INFO  joining returns and refunds (312,906 rows)',
          'INFO  building pivot: region x product x day',
          'WARN  heap at 486 MiB of a 512 MiB container limit',
        ].join('\n'),
        jobReason: 'BackoffLimitExceeded',
        jobMessage: () => 'Job has reached the specified backoff limit',
        failedPods: 3,
      },
    },
    {
      job: reindex,
      failure: {
        title: 'a Job runs past its activeDeadlineSeconds',
        exitCode: 143,
        containerReason: 'Error',
        log: [
          'reindex: orders, 4,812,045 rows, batch size 5000',
          'reindex: 1,200,000 / 4,812,045 (24%)',
          'reindex: waiting for lock on table "orders" (held by pid 4121, autovacuum)',
          'reindex: still waiting for lock after 480 s',
        ].join('\n'),
        jobReason: deadlineCondition.reason,
        jobMessage: () => deadlineCondition.message,
        failedPods: 1,
      },
    },
    {
      job: policy,
      failure: {
        title: 'a podFailurePolicy FailJob rule matches exit code 42',
        exitCode: 42,
        containerReason: 'Error',
        log: hello,
        jobReason: 'PodFailurePolicy',
        jobMessage: (pod) => `Container ${main.name} for pod default/${pod} failed with exit code 42 matching FailJob rule at index 0`,
        failedPods: 1,
      },
    },
  ];
}

/** The daemon as a child process, its JSON log lines readable as they come. */
function startDaemon(api: ApiServer) {
  const child = spawn(process.execPath, ['src/cli.ts', 'run'], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      KUBECONFIG: api.kubeconfigPath,
      DRY_RUN: 'true',
      HTTP_PORT: '0',
      STATE_STORE: 'memory',
      CLUSTER_NAME: 'demo',
      WATCH_NAMESPACES: '*',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let output = '';
  let waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];
  // 'close', not 'exit': by then every line it wrote has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (text) => {
      output += `${text}\n`;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      logs.push(line);
      if (line.level === 'warn' || line.level === 'error') say(style.dim(`  (daemon ${line.level}: ${line.msg})`));
      waiters = waiters.filter((waiter) => (waiter.match(line) ? (waiter.resolve(line), false) : true));
    });
  }
  /** The next log line (from `from` on) that matches; rejects if the daemon exits first. */
  const next = (match: (line: LogLine) => boolean, from = 0): Promise<LogLine> => {
    const seen = logs.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<LogLine>((resolve) => waiters.push({ match, resolve })),
      exited.then((code) => Promise.reject(new Error(`the daemon exited (${code}) early:\n${output.slice(-3000)}`))),
    ]);
  };
  return { child, logs, next, exited, output: () => output };
}

function section(index: number, total: number, scenario: Scenario): void {
  const title = ` ${index}/${total}  ${scenario.job.namespace}/${scenario.job.name}: ${scenario.failure.title} `;
  say();
  say(style.bold(`━━━${title}${'━'.repeat(Math.max(3, 100 - title.length))}`));
}

async function main(): Promise<void> {
  const started = Date.now();
  const deadline = setTimeout(() => {
    process.stderr.write(`demo: not done after ${DEADLINE_MS / 1000} s, giving up\n`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();

  say(style.bold('kube-job-alerts demo') + ': three Jobs are about to fail on a local Kubernetes API emulator, and the daemon');
  say('is watching it in dry-run mode. No cluster and no Slack needed: each alert below is the message it would post.');
  say();

  const api = await startApiServer({ bookmarkIntervalMs: 1000 });
  const scenarios = seed(api);
  const daemon = startDaemon(api);
  const stopDaemon = (): void => void (daemon.child.exitCode === null && daemon.child.kill('SIGTERM'));
  process.once('SIGINT', stopDaemon);
  try {
    say(style.dim(`  API server emulator ${api.url}: ${scenarios.map((s) => `${s.job.namespace}/${s.job.name}`).join(', ')} running`));
    say(style.dim('  starting the daemon: node src/cli.ts run with DRY_RUN=true CLUSTER_NAME=demo WATCH_NAMESPACES=* STATE_STORE=memory'));
    await daemon.next((line) => line.msg === 'caches synced: alerting');
    say(style.dim(`  daemon ready after ${((Date.now() - started) / 1000).toFixed(1)} s: watching Jobs in every namespace, nothing failed yet`));

    for (const [index, scenario] of scenarios.entries()) {
      const { job, failure } = scenario;
      if (BEAT_MS > 0) await delay(BEAT_MS);
      section(index + 1, scenarios.length, scenario);
      const from = daemon.logs.length;
      const failedAt = Date.now();
      failJob(api, job, {
        log: failure.log,
        exitCode: failure.exitCode,
        reason: failure.containerReason,
        jobReason: failure.jobReason,
        jobMessage: failure.jobMessage(job.pod),
        failedPods: failure.failedPods,
      });
      say(`${style.bold('cluster')}  container ${job.container} ends: exit code ${failure.exitCode}, ${failure.containerReason}; the Job controller marks the Job failed: ${failure.jobReason}`);
      const logged = await daemon.next((line) => line.msg === 'dry run: alert not posted to Slack' && String(line['payload']).includes(`${job.namespace}/${job.name}`), from);
      say(`${style.bold('daemon')}   alert ready ${Date.now() - failedAt} ms later (dry run: logged, not posted)`);
      const payload = JSON.parse(String(logged['payload'])) as SlackPayload;
      say();
      say(style.dim('  notification text:'));
      say(`    ${mrkdwnAsText(payload.text)}`);
      say(style.dim('  message:'));
      say(blocksAsText(payload, { style, indent: '    ' }));
      say();
      say(`  ${style.dim('Open it in Slack\'s Block Kit Builder:')} ${String(logged['builderUrl'])}`);
    }

    const alerts = (): number => daemon.logs.filter((line) => line.msg === 'dry run: alert not posted to Slack').length;
    say();
    const stopping = Date.now();
    stopDaemon();
    const code = await daemon.exited;
    if (code !== 0) throw new Error(`the daemon exited with ${code}:\n${daemon.output().slice(-3000)}`);
    if (alerts() !== scenarios.length) throw new Error(`${scenarios.length} failures but ${alerts()} alerts:\n${daemon.output().slice(-3000)}`);
    say(`${style.bold('Done')}: ${scenarios.length} failures, ${alerts()} alerts (one each, though every Job was written twice: FailureTarget, then Failed).`);
    say(`The daemon stopped on SIGTERM in ${Date.now() - stopping} ms and exited 0. Whole demo: ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    say();
    say(`${style.bold('Run it for real')} against your current kubeconfig context (it watches that namespace; WATCH_NAMESPACES='*' for all):`);
    say('  SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... CLUSTER_NAME=my-cluster npm start');
    say('or DRY_RUN=true to see the messages without posting; in a cluster: kubectl apply -k deploy/ (see README.md).');
  } finally {
    stopDaemon();
    await daemon.exited;
    await api.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
