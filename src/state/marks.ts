/**
 * What has been said, keyed by object and kind: the one place that remembers, in memory and on the objects.
 *
 * - A Job's failure: decided in this process (memory, set the moment a message is handed to the outbox, so the
 *   informer's replays and our own patch's MODIFIED event are dropped), and `kube-job-alerts.io/alerted-at` on the
 *   Job once Slack accepted it.
 * - A CronJob's story (its streak, what was said about each run): in memory, and as `kube-job-alerts.io/story` on
 *   the CronJob, written with only what Slack confirmed (decide/story.ts `durable`).
 * Keyed by UID for Jobs, because names are reused (a CronJob's Jobs, a re-created Job) and UIDs are not.
 *
 * `memory` (and DRY_RUN) writes nothing to the cluster: a restart re-sends failures younger than ALERT_MAX_AGE.
 * `annotation` writes merge patches that carry the object's UID (kube/annotate.ts), so a re-created object of the
 * same name is never marked for its predecessor. A write never throws: one that cannot be made is logged.
 */
import type { CronJobRecord } from '../detect/records.ts';
import { durable, EMPTY_STORY, type Story } from '../decide/story.ts';
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffPolicy } from '../queue/backoff.ts';
import { ANNOTATIONS, type AnnotationKey } from './annotations.ts';
import { decodeStory, encodeStory } from './story-codec.ts';

export interface ObjectRef {
  readonly kind: 'Job' | 'CronJob';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** Writes annotations on an object, only if it still has this UID. Implemented in kube/annotate.ts. */
export type WriteAnnotations = (object: ObjectRef, annotations: Readonly<Record<string, string>>) => Promise<void>;

/** Whether retrying a write can help, from the error the writer threw. */
export type WriteErrorKind = 'retry' | 'gone' | 'denied' | 'other';

export interface MarksOptions {
  /** `memory`: nothing is written to the cluster (STATE_STORE=memory, or DRY_RUN). */
  readonly store: 'annotation' | 'memory';
  readonly write: WriteAnnotations;
  readonly classify: (error: unknown) => WriteErrorKind;
  readonly describe: (error: unknown) => string;
  readonly logger: Logger;
  readonly attempts: number;
  readonly backoff: BackoffPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What was said about an object's health: kind -> ISO time (or a short text), e.g. { stuck: '2026-…' }. */
export type Health = Readonly<Record<string, string>>;

export type WriteResult = 'written' | 'unchanged' | 'memory' | 'gone' | 'failed';

export class Marks {
  readonly #options: MarksOptions;
  /** Job UIDs whose failure was decided (a message handed over or sent, or skipped for good). */
  readonly #decided = new Set<string>();
  /** CronJob `namespace/name` -> its story as this process knows it (pending messages included). */
  readonly #stories = new Map<string, Story>();
  /** CronJob `namespace/name` -> the story annotation value last written or read. */
  readonly #written = new Map<string, string>();
  readonly #warned = new Set<string>();
  readonly #health = new Map<string, Health>();

  constructor(options: MarksOptions) {
    this.#options = options;
  }

  isDecided(uid: string): boolean {
    return this.#decided.has(uid);
  }

  decided(uid: string): void {
    this.#decided.add(uid);
  }

  /** After Slack accepted a message about this Job's failure. */
  async markAlerted(job: Omit<ObjectRef, 'kind'>, at: Date): Promise<WriteResult> {
    this.#decided.add(job.uid);
    return this.#write({ kind: 'Job', ...job }, 'alertedAt', at.toISOString());
  }

  /** The CronJob's story: this process's, else the one written on it, else empty. */
  story(key: string, cronJob: CronJobRecord | undefined): Story {
    const known = this.#stories.get(key);
    if (known) return known;
    const text = cronJob?.annotations.story;
    const { story, problem } = decodeStory(text);
    if (problem && !this.#warned.has(`${key}:${text}`)) {
      this.#warned.add(`${key}:${text}`);
      this.#options.logger.warn({ cronJob: key, annotation: ANNOTATIONS.story }, `the story annotation ${problem}: counting this CronJob's streak from scratch`);
    }
    if (text !== undefined) this.#written.set(key, text);
    return problem ? EMPTY_STORY : story;
  }

  setStory(key: string, story: Story): void {
    this.#stories.set(key, story);
  }

  /** Writes what Slack confirmed of the story onto the CronJob, when that differs from what it holds. */
  async persistStory(cronJob: ObjectRef, key: string): Promise<WriteResult> {
    const story = this.#stories.get(key);
    if (!story) return 'unchanged';
    const text = encodeStory(durable(story));
    if (this.#written.get(key) === text) return 'unchanged';
    const result = await this.#write(cronJob, 'story', text);
    if (result === 'written' || result === 'memory') this.#written.set(key, text);
    return result;
  }

  /**
   * What was said about an object's health (a missed schedule, a stuck or pending run): this process's note, else
   * the `kube-job-alerts.io/health` annotation as cached. Keyed `Job/<uid>` or `CronJob/<namespace>/<name>`.
   */
  health(key: string, annotation: string | undefined): Health {
    const known = this.#health.get(key);
    if (known) return known;
    try {
      const parsed = annotation === undefined ? {} : (JSON.parse(annotation) as unknown);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
      }
    } catch {
      // edited by hand into nonsense: said nothing yet, as far as we know
    }
    return {};
  }

  /** Notes it in memory now (so this process says it once); write it on the object with persistHealth once sent. */
  noteHealth(key: string, health: Health): void {
    this.#health.set(key, health);
  }

  async persistHealth(object: ObjectRef, key: string): Promise<WriteResult> {
    const health = this.#health.get(key);
    return health ? this.#write(object, 'health', JSON.stringify(health)) : 'unchanged';
  }

  forgetJob(uid: string): void {
    this.#decided.delete(uid);
    this.#health.delete(`Job/${uid}`);
  }

  forgetCronJob(key: string): void {
    this.#stories.delete(key);
    this.#written.delete(key);
  }

  async #write(object: ObjectRef, key: AnnotationKey, value: string): Promise<WriteResult> {
    const { store, write, classify, describe, logger, attempts, backoff } = this.#options;
    if (store === 'memory') return 'memory';
    const sleep = this.#options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      try {
        await write(object, { [ANNOTATIONS[key]]: value });
        return 'written';
      } catch (error) {
        const kind = classify(error);
        if (kind === 'gone') return 'gone'; // deleted or replaced since: nothing left to mark
        if (kind === 'retry' && attempt < attempts) {
          await sleep(backoffDelay(backoff, attempt - 1));
          continue;
        }
        logger.error(
          {
            object: `${object.kind} ${object.namespace}/${object.name}`,
            annotation: ANNOTATIONS[key],
            err: describe(error),
            hint: kind === 'denied' ? `grant patch on ${object.kind === 'Job' ? 'jobs' : 'cronjobs'}, or set STATE_STORE=memory` : undefined,
          },
          'could not write the annotation: this process remembers it, but a restart may send a message again',
        );
        return 'failed';
      }
    }
  }
}
