/**
 * Wiring only: config, settings, clients, permission check, informers -> record cache -> controller (queue, decide,
 * evidence) -> outbox (render, transport) -> marks; server; signals. No decisions are made here.
 * The daemon is `kube-job-alerts run` (cli.ts, the image's entrypoint, and the one reader of process.env); this module
 * imports nothing from cli.ts, so the two form no cycle.
 */
import { AlertController } from './alerts/controller.ts';
import { EvidenceStore } from './alerts/evidence-store.ts';
import { address } from './alerts/addressing.ts';
import { ConfigError, loadConfig, routeFingerprints, type Config } from './config.ts';
import { cronJobRecord } from './detect/records.ts';
import { parseSchedule } from './detect/schedule.ts';
import { annotationWriter, classifyWriteError } from './kube/annotate.ts';
import { connect, describeError, namespacesToWatch } from './kube/client.ts';
import { CronJobEvents } from './kube/cronjob-events.ts';
import { evidenceGatherer, jobPodLister } from './kube/evidence.ts';
import { requiredPermissions, warnAboutMissingPermissions } from './kube/permissions.ts';
import { RecordCache } from './kube/record-cache.ts';
import { NamespaceWatch } from './kube/namespaces.ts';
import { isJobWatched, jobListOptions, watchScope } from './route/watched.ts';
import { LeaderElector, LeaderMetrics } from './kube/lease.ts';
import { JobWatch } from './kube/watching.ts';
import { Heartbeat } from './heartbeat.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { Outbox } from './notify/outbox.ts';
import { StormGate } from './notify/storm.ts';
import type { SendResult, Transport } from './notify/transport.ts';
import { startServer } from './server.ts';
import { settingsFrom } from './settings.ts';
import { DryRunDeliverer, SlackDeliverer, webhookFingerprint, type Deliverer } from './slack/deliver.ts';
import type { SlackPayload } from './slack/format.ts';
import { withRouting } from './slack/actions.ts';
import { renderNotification } from './slack/render.ts';
import { webhookTransport } from './slack/transport.ts';
import { Marks } from './state/marks.ts';
import { systemClock } from './time.ts';

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
  const settings = settingsFrom(config);
  const logger = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => logger.error({ err: describeError(reason) }, 'unhandled rejection (absorbed)'));

  const clients = connect();
  const namespaces = namespacesToWatch(config.watchNamespaces, config.podNamespace, clients.config);
  logger.info(
    {
      config: { ...config, slackWebhookUrl: undefined, routes: undefined, heartbeatUrl: undefined },
      heartbeat: config.heartbeatUrl ? webhookFingerprint(config.heartbeatUrl) : undefined,
      webhook: config.slackWebhookUrl ? webhookFingerprint(config.slackWebhookUrl) : undefined,
      routes: routeFingerprints(config, webhookFingerprint),
      server: clients.server,
      namespaces,
    },
    'starting',
  );
  // Not awaited: a slow or failing API server must not delay the start; the reviews are bounded and never throw.
  void warnAboutMissingPermissions({ clients, permissions: requiredPermissions(config, namespaces), logger: logger.child({ module: 'permissions' }) });

  const metrics = new Metrics({ defaultMetrics: true });
  // One transport per destination (SLACK_WEBHOOK_URL is the route `default`), each with its own queue and pacing.
  const transports = new Map<string, Transport<SlackPayload>>();
  for (const [route, url] of [['default', config.slackWebhookUrl] as const, ...config.routes]) {
    const routeLogger = logger.child({ module: 'slack', route });
    const deliverer: Deliverer =
      config.dryRun || url === undefined
        ? new DryRunDeliverer({ logger: routeLogger })
        : new SlackDeliverer({
            url,
            logger: routeLogger,
            metrics,
            timeoutMs: settings.slack.attemptTimeoutMs,
            minIntervalMs: settings.slack.minIntervalMs,
            retryBackoff: settings.slack.retryBackoff,
            defaultRetryAfterMs: settings.slack.defaultRetryAfterMs,
            maxRetryAfterMs: settings.slack.maxRetryAfterMs,
          });
    metrics.routeCreated(route);
    const count = (result: SendResult) => metrics.routeMessages.inc({ route, result: result.ok ? 'delivered' : result.permanent ? 'refused' : 'aborted' });
    transports.set(route, webhookTransport(route, deliverer, count));
  }
  const marks = new Marks({
    // A dry run writes nothing to the cluster: a trial against production must not suppress its real alerts later.
    store: config.dryRun ? 'memory' : config.stateStore,
    write: annotationWriter(clients.batch, settings.api.callTimeoutMs),
    classify: classifyWriteError,
    describe: describeError,
    logger: logger.child({ module: 'state' }),
    attempts: settings.api.markAttempts,
    backoff: settings.api.markBackoff,
  });
  const scope = watchScope(config, namespaces);
  const { needsEdgeFilter, ...jobSelectors } = jobListOptions(scope);
  const records = new RecordCache(logger.child({ module: 'cache' }), needsEdgeFilter ? (job) => isJobWatched(job as Parameters<typeof isJobWatched>[0], scope) : undefined);
  const evidence = new EvidenceStore({
    gather: evidenceGatherer({ core: clients.core, tailLines: config.logTailLines, logger: logger.child({ module: 'evidence' }), timeoutMs: settings.api.callTimeoutMs }),
    ...settings.evidence,
  });
  const watch = new JobWatch({
    clients,
    namespaces,
    onJob: (job) => records.putJob(job),
    onJobDeleted: (job) => records.deleteJob(job),
    onCronJob: (cronJob) => records.putCronJob(cronJob),
    onCronJobDeleted: (cronJob) => records.deleteCronJob(cronJob),
    logger: logger.child({ module: 'kube' }),
    metrics,
    silenceMs: settings.informer.silenceMs,
    restartBackoff: settings.informer.restartBackoff,
    listTimeoutMs: settings.informer.listTimeoutMs,
    notReadyAfterMs: settings.informer.notReadyAfterMs,
    callTimeoutMs: settings.api.callTimeoutMs,
    jobSelectors,
  });
  const outbox: Outbox<SlackPayload> = new Outbox({
    render: (notification) => withRouting(renderNotification(notification), { mentions: notification.mentions, links: notification.links }),
    transportFor: (notification) => transports.get(notification.route ?? 'default') ?? transports.get('default')!,
    onSettled: (notification, result) => controller.settled(notification, result),
    logger: logger.child({ module: 'outbox' }),
    ...settings.outbox,
    onDropped: () => metrics.alertsFailed.inc({ slack_error: 'outbox_full' }),
  });
  const storms = new StormGate({ next: outbox, threshold: config.groupThreshold, windowMs: config.groupWindowMs, perDigest: settings.outbox.perDigest, now: Date.now });
  // Namespace annotations (route, mention, runbook) only when asked for: it needs RBAC on namespaces (README).
  const namespaceWatch = config.namespaceAnnotations
    ? new NamespaceWatch({ clients, logger: logger.child({ module: 'kube' }), metrics, silenceMs: settings.informer.silenceMs, callTimeoutMs: settings.api.callTimeoutMs })
    : undefined;
  const controller = new AlertController({
    records,
    readCronJob: async (namespace, name) => cronJobRecord(await watch.readCronJob(namespace, name)),
    marks,
    sender: storms,
    evidence: (failure, signal) => evidence.capture(failure, signal),
    forgetEvidence: (uid) => evidence.forget(uid),
    address: async (notification, objects, signal) => {
      const namespace = objects.job?.namespace ?? objects.cronJob?.namespace;
      const namespaceObject = namespaceWatch && namespace ? await namespaceWatch.namespace(namespace, signal) : undefined;
      return address(notification, { ...objects, ...(namespaceObject ? { namespace: namespaceObject } : {}) }, config);
    },
    schedule: { graceMs: config.missedScheduleGraceMs, defaultZone: config.scheduleTimeZone, minGraceMs: settings.schedule.minGraceMs, countLimit: settings.schedule.missedCountLimit },
    runChecks: { stuckAfterMs: config.stuckAfterMs, pendingAfterMs: config.pendingAlertAfterMs },
    health: { neverSucceededAfter: config.neverSucceededAfter, skippedRunsAlert: config.skippedRunsAlert, slowRuns: config.slowRuns },
    podsOf: jobPodLister(clients.core, settings.api.callTimeoutMs),
    nextRun: (cronJob, after) => {
      const parsed = cronJob.schedule === undefined ? undefined : parseSchedule(cronJob.schedule, cronJob.timeZone, config.scheduleTimeZone);
      return parsed?.ok ? parsed.schedule.nextAfter(after) : undefined;
    },
    policy: { alertAfter: config.alertAfter, repeat: config.repeat, notifyRecovery: config.notifyRecovery, maxAgeMs: config.alertMaxAgeMs },
    cluster: config.clusterName,
    workers: settings.workers,
    requeueBackoff: settings.requeueBackoff,
    clock: systemClock,
    logger: logger.child({ module: 'controller' }),
    metrics,
  });
  records.listen(controller);
  const cronJobEvents = new CronJobEvents({
    clients,
    namespaces,
    onEvent: (event) => controller.cronJobEvent(event),
    logger: logger.child({ module: 'kube' }),
    metrics,
    silenceMs: settings.informer.silenceMs,
  });
  const heartbeat = config.heartbeatUrl
    ? new Heartbeat({
        url: config.heartbeatUrl,
        fingerprint: webhookFingerprint(config.heartbeatUrl),
        intervalMs: config.heartbeatIntervalMs,
        logger: logger.child({ module: 'heartbeat' }),
        unhealthy: () => {
          const waiting = watch.notReady();
          if (waiting.length > 0) return `not watching: ${waiting.join(', ')}`;
          const stuckMs = outbox.oldestWaitingMs();
          if (stuckMs > Math.max(300_000, 2 * config.heartbeatIntervalMs)) return `a message has waited ${Math.round(stuckMs / 1000)} s for Slack`;
          return undefined;
        },
      })
    : undefined;
  const { server, port } = await startServer(config.httpPort, watch, metrics.registry);
  logger.info({ port }, 'serving /healthz, /readyz and /metrics');

  // Two replicas: only the leader delivers; followers keep their caches (and queues) warm, and the first thing a new
  // leader does is work through them, so it alerts whatever the old leader left unmarked. Electing writes a Lease,
  // so a dry run (which writes nothing to the cluster) does not elect.
  if (config.leaderElection && config.dryRun) logger.warn('LEADER_ELECTION is ignored in a dry run: electing writes a Lease, and a dry run writes nothing');
  if (config.leaderElection && !config.dryRun && config.stateStore === 'memory') {
    logger.warn('LEADER_ELECTION with STATE_STORE=memory: a new leader cannot know what the old one sent, so each takeover re-sends failures younger than ALERT_MAX_AGE');
  }
  const elector =
    config.leaderElection && !config.dryRun
      ? new LeaderElector({
          clients,
          namespace: config.podNamespace!,
          name: config.leaseName,
          identity: config.podName!,
          timings: settings.leaderElection,
          logger: logger.child({ module: 'lease' }),
          metrics: new LeaderMetrics(metrics.registry),
        })
      : undefined;
  /** Stops deciding and delivering: in-flight messages get `graceMs`, then are handed back unmarked. */
  const stopAlerting = async (graceMs: number) => {
    storms.stop();
    heartbeat?.stop();
    await Promise.all([controller.stop(graceMs), outbox.stop(graceMs)]);
  };

  onStopSignal(logger, settings.shutdown.exitDeadlineMs, async () => {
    // A leader drains first (onStoppedLeading) and then releases the Lease, so a follower takes over at once.
    if (elector) await elector.stop();
    else await stopAlerting(settings.shutdown.drainMs);
    await Promise.all([watch.stop(), namespaceWatch?.stop(), cronJobEvents.stop()]);
    server.close();
  });

  // Alerting never waits for the Namespace cache: a cache miss reads through, and a denied list must not block it.
  void namespaceWatch?.start();
  // Nor for the CronJob controller's warnings: a forbidden watch of events must not stop the alerts.
  void cronJobEvents.start();
  await watch.start();
  await watch.whenSynced();
  const alert = () => {
    heartbeat?.start();
    logger.info({ queued: controller.queued }, 'caches synced: alerting');
    controller.start();
  };
  if (!elector) return alert();
  logger.info({ lease: `${config.podNamespace}/${config.leaseName}`, identity: config.podName }, 'caches synced: waiting to lead');
  void elector.run({
    onStartedLeading: alert,
    onStoppedLeading: async (reason) => {
      if (reason === 'stopped') return stopAlerting(settings.shutdown.drainMs);
      // Lost without being asked (renewals failed, or another replica holds the Lease): stop posting at once, before
      // the Lease can expire elsewhere, and exit so that the pod rejoins as a follower (as client-go controllers do).
      logger.error('lost the leadership: delivery stopped, exiting to rejoin as a follower');
      await stopAlerting(0);
      process.exit(0);
    },
  });
}

/** The first SIGTERM or SIGINT drains and exits 0; a second one exits at once. */
function onStopSignal(logger: Logger, deadlineMs: number, drain: () => Promise<void>): void {
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
    }, deadlineMs).unref();
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
