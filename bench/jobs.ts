/**
 * Realistic Jobs for the benchmark, ~5.7 KB of JSON each as the API server returns them: test/fixtures' `failedJob`
 * (modelled on kubernetes/kubernetes#92245) with a production-like pod template (env, resources, volumes) and the
 * managedFields kube-controller-manager writes (the spec as created, then the status subresource).
 *
 * Most are finished long ago (95% succeeded, 5% failed in 2020, older than ALERT_MAX_AGE), as a cluster's Jobs are:
 * the daemon caches them all and alerts on none. Objects are built for `api.load()`: the parts every Job of a real
 * CronJob repeats (the pod template, the spec's managedFields) are shared between objects, so 50,000 of them cost the
 * emulator little; on the wire each is whole.
 */
import { failedJob } from '../test/fixtures/index.ts';

const CONTAINER = {
  name: 'report',
  image: 'registry.example.com/batch/nightly-report:2.14.0',
  imagePullPolicy: 'IfNotPresent',
  command: ['/bin/report', '--from=yesterday', '--format=parquet', '--upload=s3://reports-archive/nightly'],
  env: [
    { name: 'REPORT_BUCKET', value: 's3://reports-archive/nightly' },
    { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { key: 'url', name: 'reports-db' } } },
    { name: 'LOG_LEVEL', value: 'info' },
    { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { divisor: '0', resource: 'limits.cpu' } } },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability.svc:4317' },
    { name: 'OTEL_SERVICE_NAME', value: 'nightly-report' },
    { name: 'TZ', value: 'Europe/Berlin' },
  ],
  resources: { limits: { cpu: '2', memory: '2Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
  volumeMounts: [
    { mountPath: '/etc/report', name: 'config', readOnly: true },
    { mountPath: '/scratch', name: 'scratch' },
  ],
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};

const SIDECAR = {
  name: 'log-shipper',
  image: 'fluent/fluent-bit:3.1.4',
  imagePullPolicy: 'IfNotPresent',
  resources: { limits: { memory: '64Mi' }, requests: { cpu: '10m', memory: '32Mi' } },
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
};

const TEMPLATE_SPEC = {
  containers: [CONTAINER, SIDECAR],
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Never',
  schedulerName: 'default-scheduler',
  securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 },
  serviceAccountName: 'nightly-report',
  terminationGracePeriodSeconds: 30,
  nodeSelector: { 'node.kubernetes.io/pool': 'batch' },
  tolerations: [{ effect: 'NoSchedule', key: 'dedicated', operator: 'Equal', value: 'batch' }],
  volumes: [
    { configMap: { defaultMode: 420, name: 'nightly-report-config' }, name: 'config' },
    { emptyDir: { sizeLimit: '10Gi' }, name: 'scratch' },
  ],
};

const leaf = {};
const SPEC_FIELDS = {
  'f:metadata': { 'f:labels': { '.': leaf, 'f:app': leaf, 'f:team': leaf } },
  'f:spec': {
    'f:backoffLimit': leaf, 'f:completionMode': leaf, 'f:completions': leaf, 'f:manualSelector': leaf, 'f:parallelism': leaf,
    'f:podReplacementPolicy': leaf, 'f:suspend': leaf,
    'f:template': {
      'f:metadata': { 'f:labels': { '.': leaf, 'f:app': leaf, 'f:team': leaf } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"report"}': {
            '.': leaf, 'f:command': leaf, 'f:image': leaf, 'f:imagePullPolicy': leaf, 'f:name': leaf,
            'f:env': Object.fromEntries(CONTAINER.env.map((env) => [`k:{"name":"${env.name}"}`, { '.': leaf, 'f:name': leaf, [env.value ? 'f:value' : 'f:valueFrom']: leaf }])),
            'f:resources': { 'f:limits': { '.': leaf, 'f:cpu': leaf, 'f:memory': leaf }, 'f:requests': { '.': leaf, 'f:cpu': leaf, 'f:memory': leaf } },
            'f:terminationMessagePath': leaf, 'f:terminationMessagePolicy': leaf,
            'f:volumeMounts': { '.': leaf, 'k:{"mountPath":"/etc/report"}': { '.': leaf, 'f:mountPath': leaf, 'f:name': leaf, 'f:readOnly': leaf }, 'k:{"mountPath":"/scratch"}': { '.': leaf, 'f:mountPath': leaf, 'f:name': leaf } },
          },
          'k:{"name":"log-shipper"}': {
            '.': leaf, 'f:image': leaf, 'f:imagePullPolicy': leaf, 'f:name': leaf,
            'f:resources': { 'f:limits': { '.': leaf, 'f:memory': leaf }, 'f:requests': { '.': leaf, 'f:cpu': leaf, 'f:memory': leaf } },
            'f:terminationMessagePath': leaf, 'f:terminationMessagePolicy': leaf,
          },
        },
        'f:dnsPolicy': leaf, 'f:restartPolicy': leaf, 'f:schedulerName': leaf, 'f:securityContext': { '.': leaf, 'f:fsGroup': leaf, 'f:runAsNonRoot': leaf, 'f:runAsUser': leaf },
        'f:serviceAccountName': leaf, 'f:terminationGracePeriodSeconds': leaf, 'f:nodeSelector': { '.': leaf, 'f:node.kubernetes.io/pool': leaf }, 'f:tolerations': leaf,
        'f:volumes': { '.': leaf, 'k:{"name":"config"}': { '.': leaf, 'f:configMap': { '.': leaf, 'f:defaultMode': leaf, 'f:name': leaf }, 'f:name': leaf }, 'k:{"name":"scratch"}': { '.': leaf, 'f:emptyDir': { '.': leaf, 'f:sizeLimit': leaf }, 'f:name': leaf } },
      },
    },
  },
};
const STATUS_FIELDS = {
  'f:status': { 'f:completionTime': leaf, 'f:conditions': leaf, 'f:failed': leaf, 'f:ready': leaf, 'f:startTime': leaf, 'f:succeeded': leaf, 'f:terminating': leaf, 'f:uncountedTerminatedPods': leaf },
};

/** The namespaces the benchmark's Jobs live in. */
export const BENCH_NAMESPACES = Array.from({ length: 20 }, (_, i) => `team-${String(i).padStart(2, '0')}`);

/** Job number `i` of a cluster's history: finished, most of them successfully. */
export function benchJob(i: number): Record<string, unknown> {
  const namespace = BENCH_NAMESPACES[i % BENCH_NAMESPACES.length]!;
  const startedAt = new Date(Date.UTC(2020, 5, 1) + i * 60_000).toISOString().replace('.000Z', 'Z');
  const job = failedJob({ name: `nightly-report-${String(i).padStart(6, '0')}`, namespace, startedAt, labels: { app: 'nightly-report', team: namespace } });
  const failed = i % 20 === 7;
  const finishedAt = job.status.conditions[0]!.lastTransitionTime;
  const status = failed
    ? job.status
    : {
        completionTime: finishedAt,
        conditions: ['SuccessCriteriaMet', 'Complete'].map((type) => ({ lastProbeTime: finishedAt, lastTransitionTime: finishedAt, message: 'Reached expected number of succeeded pods', reason: 'CompletionsReached', status: 'True', type })),
        ready: 0,
        startTime: startedAt,
        succeeded: 1,
        terminating: 0,
        uncountedTerminatedPods: {},
      };
  const { resourceVersion: _rv, ...metadata } = job.metadata;
  return {
    ...job,
    metadata: {
      ...metadata,
      managedFields: [
        { apiVersion: 'batch/v1', fieldsType: 'FieldsV1', fieldsV1: SPEC_FIELDS, manager: 'kube-controller-manager', operation: 'Update', time: startedAt },
        { apiVersion: 'batch/v1', fieldsType: 'FieldsV1', fieldsV1: STATUS_FIELDS, manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: finishedAt },
      ],
    },
    spec: { ...job.spec, template: { metadata: { labels: { app: 'nightly-report', team: namespace } }, spec: TEMPLATE_SPEC } },
    status,
  };
}

/** Jobs number `from` to `to` - 1. */
export function benchJobs(from: number, to: number): Record<string, unknown>[] {
  return Array.from({ length: to - from }, (_, k) => benchJob(from + k));
}
