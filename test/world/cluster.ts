/**
 * Acts as the cluster's controllers would on the API-server emulator: a Job starts, its pod runs and fails, the
 * Job controller sets FailureTarget and then Failed. Objects are the realistic builders from test/fixtures.
 */
import { failedJob, failedPod, type FailedJobOptions, type FailedPodOptions } from '../fixtures/index.ts';
import type { ApiServer, K8sObject } from './apiserver.ts';

export interface RunningJob {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly pod: string;
  readonly container: string;
}

/** Creates a running Job and its running pod (timestamps: now). */
export function startJob(api: ApiServer, options: FailedJobOptions & { startedAt?: string } = {}): RunningJob {
  const startedAt = options.startedAt ?? isoNow();
  const template = failedJob({ ...options, startedAt });
  const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ct, ...metadata } = template.metadata;
  const job = api.create('jobs', { ...template, metadata, status: { active: 1, startTime: startedAt, ready: 1 } });
  const built = failedJob({ ...options, startedAt, uid: job.metadata.uid, name: job.metadata.name });
  const podTemplate = failedPod(built, {});
  const { uid: _puid, resourceVersion: _prv, ...podMetadata } = podTemplate.metadata;
  const pod = api.create('pods', {
    ...podTemplate,
    metadata: podMetadata,
    status: { phase: 'Running', startTime: startedAt, containerStatuses: [{ name: podTemplate.spec.containers[0]!.name, ready: true, restartCount: 0, state: { running: { startedAt } } }] },
  });
  return { namespace: job.metadata.namespace ?? 'default', name: job.metadata.name, uid: job.metadata.uid, pod: pod.metadata.name, container: podTemplate.spec.containers[0]!.name };
}

export interface FailOptions extends Pick<FailedPodOptions, 'exitCode' | 'reason' | 'message'> {
  readonly log?: string;
  readonly jobReason?: string;
  readonly jobMessage?: string;
  /** status.failed when the Job controller gives up; default backoffLimit + 1 (right for BackoffLimitExceeded only). */
  readonly failedPods?: number;
  /** Set only FailureTarget (pods still terminating), as Kubernetes >= 1.31 does first. Default: both, in two writes. */
  readonly only?: 'FailureTarget';
}

/** The pod fails (with a log), then the Job controller marks the Job: FailureTarget, then Failed. */
export function failJob(api: ApiServer, job: RunningJob, options: FailOptions = {}): K8sObject {
  const failedAt = isoNow();
  const current = api.get('jobs', job.namespace, job.name);
  if (!current) throw new Error(`no job ${job.namespace}/${job.name}`);
  const built = failedJob({
    name: job.name,
    namespace: job.namespace,
    uid: job.uid,
    startedAt: current.status?.startTime,
    failedAt,
    reason: options.jobReason,
    message: options.jobMessage,
    backoffLimit: current.spec?.backoffLimit,
    failed: options.failedPods ?? (current.spec?.backoffLimit ?? 6) + 1,
    container: job.container,
    image: current.spec?.template?.spec?.containers?.[0]?.image,
  });
  if (options.log !== undefined) api.setPodLog(job.namespace, job.pod, job.container, options.log);
  api.modify('pods', job.namespace, job.pod, (pod) => {
    const failed = failedPod(built, { name: job.pod, exitCode: options.exitCode, reason: options.reason, message: options.message, finishedAt: failedAt });
    pod.status = failed.status;
  });
  const [target, failed] = built.status.conditions;
  const status = { ...built.status, conditions: [target] };
  let written = api.modify('jobs', job.namespace, job.name, (object) => (object.status = status));
  if (options.only !== 'FailureTarget') {
    written = api.modify('jobs', job.namespace, job.name, (object) => (object.status = { ...status, conditions: [target, failed] }));
  }
  return written;
}

export function isoNow(offsetMs = 0): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The Job's pod exits 0 and the Job controller marks the Job Complete (and the CronJob controller its CronJob). */
export function succeedJob(api: ApiServer, job: RunningJob): K8sObject {
  const at = isoNow();
  api.modify('pods', job.namespace, job.pod, (pod) => {
    pod.status = {
      phase: 'Succeeded',
      containerStatuses: [{ name: job.container, ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at } } }],
    };
  });
  const written = api.modify('jobs', job.namespace, job.name, (object) => {
    object.status = {
      ...object.status,
      active: 0,
      ready: 0,
      succeeded: 1,
      completionTime: at,
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: at, lastProbeTime: at },
        { type: 'Complete', status: 'True', lastTransitionTime: at, lastProbeTime: at },
      ],
    };
  });
  const owner = (written.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.find((ref) => ref.kind === 'CronJob');
  if (owner && api.get('cronjobs', job.namespace, owner.name)) {
    api.modify('cronjobs', job.namespace, owner.name, (cronJob) => (cronJob.status = { ...cronJob.status, lastSuccessfulTime: at }));
  }
  return written;
}
