/**
 * `node bench/cronjobs-idle.ts [count] [seconds]`: the daemon's CPU while it watches `count` CronJobs (default 1,000)
 * that all run on schedule, against the same daemon watching none. Missed schedules are checked by one timer per
 * CronJob at its next deadline (the work queue's addAfter), never by a periodic scan of every CronJob: this shows
 * what that costs when nothing happens. Daily schedules at spread times, each with status.lastScheduleTime at its
 * last due time (a scheduled run between now and the end of the measurement is marked as run when it comes due, as
 * the CronJob controller would). CPU is read from /proc (utime + stime) over `seconds` (default 60) after ready.
 * Not part of `npm test`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startApiServer, type ApiServer } from '../test/world/apiserver.ts';

const count = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 60);
const TICKS = 100; // clock ticks per second (CLK_TCK) on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function lastDue(minute: number, hour: number, now: Date): Date {
  const due = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hour, minute));
  if (due > now) due.setUTCDate(due.getUTCDate() - 1);
  return due;
}

async function measure(cronJobs: number): Promise<{ cpuSeconds: number; rssMb: number }> {
  const api: ApiServer = await startApiServer({ bookmarkIntervalMs: 5000 });
  const now = new Date();
  const schedules: { name: string; minute: number; hour: number }[] = [];
  for (let i = 0; i < cronJobs; i++) {
    const minute = (i * 7) % 60;
    const hour = Math.floor((i * 24) / Math.max(cronJobs, 1)) % 24;
    const name = `cj-${i}`;
    schedules.push({ name, minute, hour });
    api.create('cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' }, spec: { schedule: `${minute} ${hour} * * *`, jobTemplate: { spec: {} } } }, { createdAt: new Date(now.getTime() - 3 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z') });
    api.modify('cronjobs', 'default', name, (object) => (object.status = { lastScheduleTime: lastDue(minute, hour, now).toISOString().replace(/\.\d+Z$/, 'Z') }));
  }
  const child = spawn(process.execPath, ['src/cli.ts', 'run'], {
    env: { PATH: process.env.PATH ?? '', HOME: '/tmp', KUBECONFIG: api.kubeconfigPath, DRY_RUN: 'true', HTTP_PORT: '0', LOG_LEVEL: 'info', STATE_STORE: 'memory' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready: ${output.slice(-2000)}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('caches synced: alerting')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // The CronJob controller: a daily run that comes due during the measurement is run.
  const runs = setInterval(() => {
    const at = new Date();
    for (const { name, minute, hour } of schedules) {
      const due = lastDue(minute, hour, at);
      if (at.getTime() - due.getTime() < 2000) api.modify('cronjobs', 'default', name, (object) => (object.status = { lastScheduleTime: due.toISOString().replace(/\.\d+Z$/, 'Z') }));
    }
  }, 1000);
  await new Promise((resolve) => setTimeout(resolve, 5000)); // start-up work done
  const before = cpuSeconds(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = cpuSeconds(child.pid!) - before;
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  clearInterval(runs);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  await api.close();
  const missed = (output.match(/"kind":"missed"/g) ?? []).length;
  if (missed > 0) process.stdout.write(`(${missed} missed-schedule messages: the simulated controller fell behind)\n`);
  return { cpuSeconds: used, rssMb };
}

const none = await measure(0);
const many = await measure(count);
process.stdout.write(
  [
    `Idle CPU over ${seconds} s after ready (${process.version}, ${process.arch}):`,
    `  0 CronJobs:     ${none.cpuSeconds.toFixed(2)} s CPU (${((none.cpuSeconds / seconds) * 100).toFixed(2)} % of a core), RSS ${none.rssMb.toFixed(0)} MB`,
    `  ${count} CronJobs: ${many.cpuSeconds.toFixed(2)} s CPU (${((many.cpuSeconds / seconds) * 100).toFixed(2)} % of a core), RSS ${many.rssMb.toFixed(0)} MB`,
    '',
  ].join('\n'),
);
