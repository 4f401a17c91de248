/**
 * What the informers keep of each object: the fields some decision reads, nothing else. A Job from the API server is
 * ~6 KB of JSON (managedFields, the pod template, every status field), ~15 KB once parsed; its slim copy is a few
 * hundred bytes. Every listed or watched object is reduced here before it is cached or handed on, so the whole
 * object is garbage as soon as its page or watch event has been read.
 *
 * Kept, as the API server wrote them (values are copied, never converted, so that a malformed field stays
 * malformed and the readers in detect/ judge the slim copy exactly as they would the whole object):
 * - Job: `kind`; metadata name, namespace, uid, resourceVersion, creationTimestamp, the annotations the daemon
 *   reads (`batch.kubernetes.io/cronjob-scheduled-timestamp` and `kube-job-alerts.io/*`), ownerReferences of kind
 *   CronJob, and labels only when asked (a label selector the cache's edge must match again); spec suspend,
 *   managedBy and the counts and limits of a run (not the pod template: evidence reads the pods themselves);
 *   status conditions (type, status, reason, message, lastTransitionTime), times and pod counts.
 * - CronJob: the same metadata; spec schedule, timeZone, suspend, startingDeadlineSeconds, concurrencyPolicy and the
 *   history limits (not the jobTemplate); status lastScheduleTime, lastSuccessfulTime and the active runs (as refs).
 * - Namespace: name, uid, resourceVersion and the `kube-job-alerts.io/*` annotations (routing).
 * - Event (about a CronJob: kube/cronjob-events.ts): the same metadata; reason, type, message or note, the involved
 *   object (involvedObject or regarding: kind, name, namespace, uid), the counts and times of both recorder shapes
 *   (count, firstTimestamp, lastTimestamp, eventTime, series, and the deprecated* fields); not the source, the
 *   reporting controller or managedFields.
 *
 * test/unit/kube/slim.test.ts proves jobRecord(slimJob(job)) equals jobRecord(job) (and likewise for CronJobs and
 * the schedule and run facts) over every fixture, in both shapes, and over generated and broken objects: a field a
 * reader starts to use and this file drops fails that test.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATION_CRONJOB_SCHEDULED } from '../detect/failure.ts';
import { fields } from '../detect/fields.ts';
import { ANNOTATION_PREFIX } from '../state/annotations.ts';

type Json = Record<string, unknown>;

const JOB_SPEC = ['suspend', 'managedBy', 'backoffLimit', 'completions', 'parallelism', 'activeDeadlineSeconds', 'completionMode'] as const;
const JOB_STATUS = ['startTime', 'completionTime', 'active', 'failed', 'succeeded', 'ready', 'failedIndexes'] as const;
const CONDITION = ['type', 'status', 'reason', 'message', 'lastTransitionTime'] as const;
const CRONJOB_SPEC = ['schedule', 'timeZone', 'suspend', 'startingDeadlineSeconds', 'concurrencyPolicy', 'failedJobsHistoryLimit', 'successfulJobsHistoryLimit'] as const;
const CRONJOB_STATUS = ['lastScheduleTime', 'lastSuccessfulTime'] as const;
const OWNER = ['apiVersion', 'kind', 'name', 'uid', 'controller'] as const;
const ACTIVE_REF = ['name', 'namespace', 'uid'] as const;
const METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp'] as const;
const EVENT = ['reason', 'type', 'message', 'note', 'count', 'deprecatedCount', 'firstTimestamp', 'deprecatedFirstTimestamp', 'lastTimestamp', 'deprecatedLastTimestamp', 'eventTime'] as const;
const EVENT_OBJECT = ['apiVersion', 'kind', 'name', 'namespace', 'uid'] as const;
const SERIES = ['count', 'lastObservedTime'] as const;

export interface SlimOptions {
  /** Keep metadata.labels (the cache's edge filter matches JOB_LABEL_SELECTOR again). Default false. */
  readonly labels?: boolean;
}

/** A Job as the informer caches it. */
export function slimJob(job: unknown, options: SlimOptions = {}): KubernetesObject {
  const object = fields(job);
  if (object === undefined) return {};
  const metadata = slimMetadata(object['metadata'], options);
  if (metadata !== undefined) {
    const owners = fields(object['metadata'])?.['ownerReferences'];
    if (Array.isArray(owners)) {
      // Only a CronJob owner is ever read (the run's CronJob); a Job's other owners (Kueue workloads, Argo) are not.
      const cronJobs = owners.filter((owner) => fields(owner)?.['kind'] === 'CronJob').map((owner) => pick(owner, OWNER));
      if (cronJobs.length > 0) metadata['ownerReferences'] = cronJobs;
    }
  }
  const spec = pick(object['spec'], JOB_SPEC);
  const status = pick(object['status'], JOB_STATUS);
  const conditions = fields(object['status'])?.['conditions'];
  if (status !== undefined && Array.isArray(conditions)) status['conditions'] = conditions.filter((condition) => fields(condition)).map((condition) => pick(condition, CONDITION));
  return assemble(object, metadata, spec, status);
}

/** A CronJob as the informer caches it. */
export function slimCronJob(cronJob: unknown): KubernetesObject {
  const object = fields(cronJob);
  if (object === undefined) return {};
  const spec = pick(object['spec'], CRONJOB_SPEC);
  const status = pick(object['status'], CRONJOB_STATUS);
  const active = fields(object['status'])?.['active'];
  // Only how many runs are active is read; the refs are kept small rather than replaced by a count, so that the
  // slim object keeps the API's shape.
  if (status !== undefined && Array.isArray(active)) status['active'] = active.map((ref) => pick(ref, ACTIVE_REF) ?? ref);
  return assemble(object, slimMetadata(object['metadata'], {}), spec, status);
}

/** A Namespace as the informer caches it: what routing reads. */
export function slimNamespace(namespace: unknown): KubernetesObject {
  const object = fields(namespace);
  if (object === undefined) return {};
  return assemble(object, slimMetadata(object['metadata'], {}), undefined, undefined);
}

/**
 * What an informer whose handlers keep their own record of each object (kube/record-cache.ts) needs to keep itself:
 * kind, name, namespace, uid and resourceVersion, the very strings of the slim object (no copies).
 */
export function identity(object: KubernetesObject): KubernetesObject {
  const metadata = object.metadata;
  if (metadata === undefined) return object;
  const kept: KubernetesObject = { metadata: { name: metadata.name, namespace: metadata.namespace, uid: metadata.uid, resourceVersion: metadata.resourceVersion } };
  if (object.kind !== undefined) kept.kind = object.kind;
  return kept;
}

/** An Event about a CronJob as the informer caches it: what detect/cronjob-warning.ts reads. */
export function slimEvent(event: unknown): KubernetesObject {
  const object = fields(event);
  if (object === undefined) return {};
  const slim = pick(object, EVENT)!;
  if (typeof object['kind'] === 'string') slim['kind'] = object['kind'];
  const metadata = slimMetadata(object['metadata'], {});
  if (metadata !== undefined) slim['metadata'] = metadata;
  // A malformed part (not an object) is kept as it is, so that it reads as malformed still.
  for (const [key, keep] of [['involvedObject', EVENT_OBJECT], ['regarding', EVENT_OBJECT], ['series', SERIES]] as const) {
    if (object[key] !== undefined) slim[key] = pick(object[key], keep) ?? object[key];
  }
  return slim as KubernetesObject;
}

function slimMetadata(metadata: unknown, options: SlimOptions): Json | undefined {
  const slim = pick(metadata, METADATA);
  if (slim === undefined) return undefined;
  const source = fields(metadata)!;
  const annotations = fields(source['annotations']);
  if (annotations !== undefined) {
    const ours: Json = {};
    let any = false;
    for (const key of Object.keys(annotations)) {
      if (key !== ANNOTATION_CRONJOB_SCHEDULED && !key.startsWith(ANNOTATION_PREFIX)) continue;
      ours[key] = annotations[key];
      any = true;
    }
    if (any) slim['annotations'] = ours;
  }
  if (options.labels && source['labels'] !== undefined) slim['labels'] = source['labels'];
  return slim;
}

function assemble(object: Json, metadata: Json | undefined, spec: Json | undefined, status: Json | undefined): KubernetesObject {
  const slim: Json = {};
  if (typeof object['kind'] === 'string') slim['kind'] = object['kind'];
  if (metadata !== undefined) slim['metadata'] = metadata;
  if (spec !== undefined) slim['spec'] = spec;
  if (status !== undefined) slim['status'] = status;
  return slim as KubernetesObject;
}

/** The named fields of an object (those present), or undefined when it is not an object. */
function pick(value: unknown, keys: readonly string[]): Json | undefined {
  const source = fields(value);
  if (source === undefined) return undefined;
  const picked: Json = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}
