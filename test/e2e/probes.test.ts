/**
 * /healthz, /readyz and /metrics of the daemon as a process: not ready until every informer has listed, nor while one
 * has been unable to list or watch for NOT_READY_AFTER, and the metrics say what happened (failures detected, alerts
 * sent, Slack attempts, last delivery, informer health).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApiServer, type ApiServer } from '../world/apiserver.ts';
import { failJob, startJob } from '../world/cluster.ts';
import { startDaemon, type Daemon } from '../world/daemon.ts';
import { startSlack, type SlackEmulator } from '../world/slack.ts';

let api: ApiServer;
let slack: SlackEmulator;
let daemon: Daemon;
let second: Daemon | undefined;

before(async () => {
  api = await startApiServer();
  slack = await startSlack();
});

after(async () => {
  await second?.stop('SIGKILL');
  await daemon?.stop('SIGKILL');
  await slack.close();
  await api.close();
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** The value of one sample in Prometheus text, e.g. `kube_job_alerts_alerts_sent_total`. */
function sample(metrics: string, name: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('probes and metrics', () => {
  it('is live at once, and ready only after the informers have listed', async () => {
    api.faults.hang((request) => request.verb === 'list' && request.resource === 'jobs');
    daemon = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0' });
    const serving = await daemon.waitForLog((line) => line.msg === 'serving /healthz, /readyz and /metrics');
    const port = serving.port as number;
    await api.nextRequest((request) => request.verb === 'list' && request.resource === 'jobs');
    assert.equal((await get(port, '/healthz')).status, 200);
    const waiting = await get(port, '/readyz');
    assert.equal(waiting.status, 503);
    assert.match(waiting.body, /jobs\/default/);
    api.faults.clearHang();
    await daemon.ready();
    assert.equal((await get(port, '/readyz')).status, 200);
    assert.equal((await get(port, '/nothing')).status, 404);
  });

  it('counts what it did in /metrics', async () => {
    const port = (await daemon.waitForLog((line) => line.msg === 'serving /healthz, /readyz and /metrics')).port as number;
    slack.script(500);
    failJob(api, startJob(api, { name: 'counted' }), { exitCode: 1 });
    await slack.waitFor(1, 20_000);
    await daemon.waitForLog((line) => line.msg === 'alert delivered');
    const { status, body } = await get(port, '/metrics');
    assert.equal(status, 200);
    assert.equal(sample(body, 'kube_job_alerts_failures_detected_total{job_reason="BackoffLimitExceeded"}'), 1);
    assert.equal(sample(body, 'kube_job_alerts_alerts_sent_total'), 1);
    assert.equal(sample(body, 'kube_job_alerts_slack_attempts_total{outcome="server_error"}'), 1);
    assert.equal(sample(body, 'kube_job_alerts_slack_attempts_total{outcome="ok"}'), 1);
    assert.equal(sample(body, 'kube_job_alerts_queue_depth'), 0);
    const last = sample(body, 'kube_job_alerts_last_successful_delivery_timestamp_seconds')!;
    assert.ok(Math.abs(last - Date.now() / 1000) < 60, `last delivery ${last}`);
    assert.match(body, /kube_job_alerts_slack_request_duration_seconds_bucket/);
    assert.match(body, /^process_resident_memory_bytes \d/m);
    assert.match(body, /^nodejs_eventloop_lag_seconds \d/m);
    assert.doesNotMatch(body, /kube_job_alerts_(process|nodejs)_/);
    assert.match(body, /^kube_job_alerts_build_info\{version="\d+\.\d+\.\d+[^"]*",node="\d+\.\d+\.\d+"\} 1$/m);
    assert.equal(sample(body, 'kube_job_alerts_ready'), 1);
    assert.equal(sample(body, 'kube_job_alerts_informer_restarts_total{resource="jobs/default"}'), 0);
  });

  it('is unready while the API server answers 500 for longer than NOT_READY_AFTER, and ready again after', async () => {
    second = startDaemon({ KUBECONFIG: api.kubeconfigPath, SLACK_WEBHOOK_URL: slack.url, HTTP_PORT: '0', WATCH_NAMESPACES: 'outage', NOT_READY_AFTER: '1s' });
    const port = (await second.waitForLog((line) => line.msg === 'serving /healthz, /readyz and /metrics')).port as number;
    await second.ready();
    const inOutage = (request: { namespace: string; verb: string }) => request.namespace === 'outage' && (request.verb === 'list' || request.verb === 'watch');
    api.faults.failNext(1_000_000, { status: 500, match: inOutage });
    api.faults.dropWatches(inOutage);
    let readyz = await get(port, '/readyz');
    for (let i = 0; i < 400 && readyz.status === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      readyz = await get(port, '/readyz');
    }
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /jobs\/outage: unable to list or watch for [\d.]+ s: HTTP 500/);
    assert.equal(sample((await get(port, '/metrics')).body, 'kube_job_alerts_informer_healthy{resource="jobs/outage"}'), 0);
    api.faults.reset();
    await second.waitForLog((line) => line.msg === 'informer works again', 30_000);
    for (let i = 0; i < 400 && readyz.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      readyz = await get(port, '/readyz');
    }
    assert.equal(readyz.status, 200);
  });
});
