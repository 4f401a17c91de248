/**
 * The CronJob controller's own warnings (MissSchedule, TooManyMissedTimes, UnknownTimeZone, FailedCreate,
 * FailedNeedsStart, JobAlreadyActive): an informer on core/v1 Events whose involvedObject is a CronJob, in each
 * watched namespace or cluster-wide. The field selector keeps every other Event (the bulk of a cluster's) out of
 * this process. Events go to `onEvent` as they come, in their slim form (kube/slim.ts); what they mean is decided in
 * detect/cronjob-warning.ts.
 */
import type { CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { KubeClients } from './client.ts';
import { Informer } from './informer.ts';
import { slimEvent } from './slim.ts';

export const CRONJOB_EVENTS_SELECTOR = 'involvedObject.kind=CronJob';

export interface CronJobEventsOptions {
  readonly clients: KubeClients;
  readonly namespaces: readonly string[] | 'all';
  readonly onEvent: (event: CoreV1Event) => void;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly silenceMs?: number;
}

export class CronJobEvents {
  readonly #informers: Informer<CoreV1Event>[] = [];

  constructor(options: CronJobEventsOptions) {
    const { clients, logger, metrics, silenceMs } = options;
    const scopes: (string | undefined)[] = options.namespaces === 'all' ? [undefined] : [...options.namespaces];
    for (const namespace of scopes) {
      const where = namespace === undefined ? '' : `/namespaces/${namespace}`;
      this.#informers.push(
        new Informer<CoreV1Event>({
          resource: `events${namespace ? `/${namespace}` : ''}`,
          path: `/api/v1${where}/events`,
          fieldSelector: CRONJOB_EVENTS_SELECTOR,
          // Kept only as what cronjob-warning.ts reads (kube/slim.ts).
          slim: (object) => slimEvent(object) as CoreV1Event,
          kubeconfig: clients.config,
          logger: logger.child({ informer: 'events', namespace: namespace ?? '*' }),
          ...(metrics ? { metrics } : {}),
          ...(silenceMs !== undefined ? { silenceMs } : {}),
          onAdd: options.onEvent,
          onUpdate: options.onEvent,
        }),
      );
    }
  }

  async start(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.stop()));
  }
}
