/**
 * Every annotation the daemon reads or writes, in one place. Prefix `kube-job-alerts.io/`. On a Job or on its
 * CronJob, the Job's own value wins.
 */
export const ANNOTATION_PREFIX = 'kube-job-alerts.io/';

export const ANNOTATIONS = {
  /** Users: "false" opts the Job (or every Job of the CronJob) out. */
  enabled: `${ANNOTATION_PREFIX}enabled`,
  /** Users: say nothing until the Nth consecutive failure of a CronJob ("N"). */
  alertAfter: `${ANNOTATION_PREFIX}alert-after`,
  /** Users: "every-failure", "first", or a duration: how often a failing CronJob is reported. */
  repeat: `${ANNOTATION_PREFIX}repeat`,
  /** Users: a run longer than this gets one "still running" message. */
  maxDuration: `${ANNOTATION_PREFIX}max-duration`,
  /** Users (Job, CronJob or Namespace): the named route (SLACK_ROUTE_<NAME>) its messages go to. */
  route: `${ANNOTATION_PREFIX}route`,
  /** Users (Job, CronJob or Namespace): Slack users and user groups to mention. */
  mention: `${ANNOTATION_PREFIX}mention`,
  /** Users (Job, CronJob or Namespace): a runbook URL, shown as a button. */
  runbook: `${ANNOTATION_PREFIX}runbook`,
  /** The daemon, on a Job: when Slack accepted the message about its failure. */
  alertedAt: `${ANNOTATION_PREFIX}alerted-at`,
  /** The daemon, on a CronJob: its failure streak, so that counts survive restarts and deleted history (JSON). */
  story: `${ANNOTATION_PREFIX}story`,
  /**
   * The daemon, on a CronJob or a Job: what it said about its health beyond failures (a missed schedule, a schedule
   * it cannot read; a stuck or pending run), as JSON of ISO times, so that each is said once across restarts.
   */
  health: `${ANNOTATION_PREFIX}health`,
} as const;

export type AnnotationKey = keyof typeof ANNOTATIONS;
