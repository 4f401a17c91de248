import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CronJobContext } from '../../../src/alert.ts';
import type { Notification } from '../../../src/notify/notification.ts';
import { MESSAGE_BUDGET, SLACK_LIMITS, textLength, type SlackPayload } from '../../../src/slack/format.ts';
import { renderNotification } from '../../../src/slack/render.ts';
import { ordinal, span, streakPhrase } from '../../../src/slack/story.ts';
import { oomKilledAlert, oomKilledFailure } from '../../fixtures/alerts.ts';

const AT = new Date('2024-06-20T20:53:00Z');
const cronJob: CronJobContext = {
  namespace: 'batch',
  name: 'nightly-report',
  schedule: '50 20 * * *',
  timeZone: 'Europe/Berlin',
  suspended: false,
  lastSuccessAt: new Date('2024-06-18T20:51:10Z'),
  nextRunAt: new Date('2024-06-21T18:50:00Z'),
};
const streak = { count: 3, since: new Date('2024-06-18T20:52:00Z'), notifiedBefore: 2, lastNotifiedAt: new Date('2024-06-19T20:52:30Z') };

const failure: Notification = { ...oomKilledAlert, kind: 'failure', at: AT, cronJob, streak };
const reminder: Notification = { ...oomKilledAlert, kind: 'reminder', at: AT, cronJob, streak: { ...streak, count: 7 } };
const recovery: Notification = {
  kind: 'recovery',
  at: AT,
  cluster: 'prod-eu',
  cronJob: { ...cronJob, lastSuccessAt: undefined },
  failures: 4,
  since: new Date('2024-06-17T20:52:00Z'),
  run: { namespace: 'batch', name: 'nightly-report-28643040', uid: 'u', startedAt: new Date('2024-06-20T20:50:00Z'), succeededAt: new Date('2024-06-20T20:52:40Z') },
};

const shown = (payload: SlackPayload) => JSON.stringify(payload.blocks);
const headerOf = (payload: SlackPayload) => {
  const [first] = payload.blocks;
  return first?.type === 'header' ? first.text.text : '';
};

describe('renderNotification: one layout per kind', () => {
  it('a CronJob failure: the streak, the schedule with its zone, the last success and the next run', () => {
    const payload = renderNotification(failure);
    assert.match(headerOf(payload), /^:rotating_light: Job failed: batch\/nightly-report-28641600$/);
    assert.match(shown(payload), /\*3rd consecutive failure\*, failing since 2024-06-18 20:52 UTC \(2 d ago\)/);
    assert.match(shown(payload), /\*Schedule:\* `50 20 \* \* \*` \(Europe\/Berlin\)/);
    assert.match(shown(payload), /\*Last success:\* 2024-06-18 20:51 UTC \(2 d ago\)/);
    assert.match(shown(payload), /\*Next run:\* 2024-06-21 18:50 UTC \(in 22 h\)/);
    assert.match(payload.text, /Job failed: batch\/nightly-report-28641600 \(BackoffLimitExceeded\), CronJob nightly-report, 3rd consecutive failure, cluster prod-eu/);
  });

  it('a CronJob that never succeeded says so', () => {
    const payload = renderNotification({ ...failure, cronJob: { ...cronJob, lastSuccessAt: undefined }, streak: { ...streak, count: 1, since: undefined } });
    assert.match(shown(payload), /\*Last success:\* never succeeded/);
    assert.match(shown(payload), /\*1st failure\*/);
    assert.doesNotMatch(payload.text, /consecutive/);
  });

  it('a standalone Job has no CronJob story', () => {
    const payload = renderNotification({ ...oomKilledAlert, kind: 'failure', at: AT, failure: { ...oomKilledFailure, cronJob: undefined } });
    assert.doesNotMatch(shown(payload), /Schedule|Last success|consecutive/);
  });

  it('a reminder: still failing, how many, since when, when it was last reported, and the latest failure', () => {
    const payload = renderNotification(reminder);
    assert.equal(headerOf(payload), ':repeat: Still failing: CronJob batch/nightly-report');
    assert.match(shown(payload), /\*7 consecutive failures\*, failing since 2024-06-18 20:52 UTC \(2 d ago\); last reported 24 h ago/);
    assert.match(payload.text, /^:repeat: Still failing: CronJob batch\/nightly-report, latest nightly-report-28641600 \(BackoffLimitExceeded\), 7 consecutive failures, cluster prod-eu$/);
    assert.match(shown(payload), /OOMKilled/, 'the latest failure\'s evidence is there');
  });

  it('a recovery: the CronJob, how many failures, since when, and the run that succeeded', () => {
    const payload = renderNotification(recovery);
    assert.equal(headerOf(payload), ':white_check_mark: Recovered: CronJob batch/nightly-report');
    assert.match(shown(payload), /recovered after \*4 consecutive failures\* over 3d 0h \(failing since 2024-06-17 20:52:00 UTC\)\./);
    assert.match(shown(payload), /\*Next run:\* 2024-06-21 18:50 UTC \(in 22 h\)/);
    assert.match(shown(payload), /nightly-report-28643040/);
    assert.match(shown(payload), /\*Duration\*\\n2m 40s/);
    assert.equal(payload.text, ':white_check_mark: Recovered: CronJob batch/nightly-report after 4 consecutive failures, cluster prod-eu');
  });

  it('a recovery after one failure says "1 failure"', () => {
    assert.match(renderNotification({ ...recovery, failures: 1 }).text, /after 1 failure,/);
  });

  it('escapes cluster text in the story (a schedule or a zone cannot ping anyone) and stays within limits', () => {
    const hostile = { ...cronJob, name: '<!channel>', schedule: '<!here> * * * *', timeZone: '<@U123>' };
    for (const n of [{ ...failure, cronJob: hostile }, { ...reminder, cronJob: hostile }, { ...recovery, cronJob: hostile }] as Notification[]) {
      const payload = renderNotification(n);
      assert.doesNotMatch(JSON.stringify(payload), /<!channel>|<!here>|<@U123>/, n.kind);
      assert.ok(textLength(payload) <= MESSAGE_BUDGET, n.kind);
      assert.ok(payload.blocks.length <= SLACK_LIMITS.blocks, n.kind);
    }
  });
});

describe('story wording', () => {
  const ordinals: Array<[number, string]> = [[1, '1st'], [2, '2nd'], [3, '3rd'], [4, '4th'], [11, '11th'], [12, '12th'], [13, '13th'], [21, '21st'], [22, '22nd'], [101, '101st'], [111, '111th']];
  for (const [n, expected] of ordinals) it(`${n} -> ${expected}`, () => assert.equal(ordinal(n), expected));
  const spans: Array<[number, string]> = [[45_000, '45 s'], [12 * 60_000, '12 min'], [3 * 3_600_000, '3 h'], [47 * 3_600_000, '47 h'], [49 * 3_600_000, '2 d']];
  for (const [ms, expected] of spans) it(`${ms} ms -> ${expected}`, () => assert.equal(span(ms), expected));
  it('a failure is "3rd consecutive failure"; a reminder counts "3 consecutive failures"', () => {
    assert.equal(streakPhrase({ ...streak, count: 3 }, false), '3rd consecutive failure');
    assert.equal(streakPhrase({ ...streak, count: 3 }, true), '3 consecutive failures');
  });
});
