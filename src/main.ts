/**
 * Wiring only: config, clients, permission check, informers, pipeline, server, signals. No decisions are made here.
 * The daemon is `kube-job-alerts run` (cli.ts, the image's entrypoint, and the one reader of process.env); this module
 * imports nothing from cli.ts, so the two form no cycle.
 */
import { systemClock } from './alert.ts';
import { AlertPipeline } from './alerts/pipeline.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { connect, describeError, namespacesToWatch } from './kube/client.ts';
import { evidenceGatherer } from './kube/evidence.ts';
import { classifyPatchError, jobAnnotator } from './kube/jobs.ts';
import { requiredPermissions, warnAboutMissingPermissions } from './kube/permissions.ts';
import { JobWatch } from './kube/watching.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { startServer } from './server.ts';
import { DryRunDeliverer, SlackDeliverer, webhookFingerprint, type Deliverer } from './slack/deliver.ts';
import { AnnotationMarks, MemoryMarks, type AlertMarks } from './state/marks.ts';

/** In-flight alerts get this long after SIGTERM; the whole stop stays within Kubernetes' default 30 s and our 10 s. */
const DRAIN_MS = 6_000;
const EXIT_DEADLINE_MS = 9_000;

/** Runs until a stop signal; exits the process itself (1 on bad configuration, 0 after a drain). */
export async function runDaemon(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`kube-job-alerts: ${problem}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => logger.error({ err: describeError(reason) }, 'unhandled rejection (absorbed)'));

  const clients = connect();
  const namespaces = namespacesToWatch(config.watchNamespaces, config.podNamespace, clients.config);
  logger.info(
    {
      config: { ...config, slackWebhookUrl: undefined },
      webhook: config.slackWebhookUrl ? webhookFingerprint(config.slackWebhookUrl) : undefined,
      server: clients.server,
      namespaces,
    },
    'starting',
  );
  // Not awaited: a slow or failing API server must not delay the start; the reviews are bounded and never throw.
  void warnAboutMissingPermissions({ clients, permissions: requiredPermissions(config, namespaces), logger: logger.child({ module: 'permissions' }) });

  const metrics = new Metrics({ defaultMetrics: true });
  const deliverer: Deliverer =
    config.dryRun || config.slackWebhookUrl === undefined
      ? new DryRunDeliverer({ logger: logger.child({ module: 'slack' }) })
      : new SlackDeliverer({ url: config.slackWebhookUrl, logger: logger.child({ module: 'slack' }), metrics });
  const marks: AlertMarks =
    config.stateStore === 'memory'
      ? new MemoryMarks()
      : new AnnotationMarks({
          annotate: jobAnnotator(clients.batch),
          classify: classifyPatchError,
          describe: describeError,
          logger: logger.child({ module: 'state' }),
        });
  const pipeline = new AlertPipeline({
    clusterName: config.clusterName,
    maxAgeMs: config.alertMaxAgeMs,
    marks,
    deliverer,
    gatherEvidence: evidenceGatherer({ core: clients.core, tailLines: config.logTailLines, logger: logger.child({ module: 'evidence' }) }),
    cronJobOf: (namespace, name) => watch.cronJob(namespace, name),
    clock: systemClock,
    logger: logger.child({ module: 'pipeline' }),
    metrics,
  });
  const watch = new JobWatch({
    clients,
    namespaces,
    onJob: (job) => pipeline.observe(job),
    onJobDeleted: (job) => pipeline.forget(job),
    logger: logger.child({ module: 'kube' }),
    metrics,
  });
  const { server, port } = await startServer(config.httpPort, watch, metrics.registry);
  logger.info({ port }, 'serving /healthz, /readyz and /metrics');

  onStopSignal(logger, async () => {
    await watch.stop();
    await pipeline.stop(DRAIN_MS);
    server.close();
  });

  await watch.start();
  await watch.whenSynced();
  logger.info({ queued: pipeline.queued }, 'caches synced: alerting');
  pipeline.start();
}

/** The first SIGTERM or SIGINT drains and exits 0; a second one exits at once. */
function onStopSignal(logger: Logger, drain: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new alerts, finishing the ones in flight');
    setTimeout(() => {
      logger.warn('stop took too long: exiting');
      process.exit(0);
    }, EXIT_DEADLINE_MS).unref();
    drain().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: describeError(error) }, 'error while stopping');
        process.exit(0);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
