// Container logs as the kubelet would serve them through the API server: tailLines, limitBytes, previous.
import { notFound, StatusError } from './status.ts';
import { resourceInfo } from './resources.ts';
import type { K8sObject } from './types.ts';

export interface LogQuery {
  container?: string;
  tailLines?: number;
  limitBytes?: number;
  previous: boolean;
}

export class PodLogs {
  readonly #texts = new Map<string, string>();

  set(namespace: string, pod: string, container: string, text: string, previous = false): void {
    this.#texts.set(keyOf(namespace, pod, container, previous), text);
  }

  /** The log text for a pod, or a StatusError worded like the real server's. */
  read(pod: K8sObject | undefined, namespace: string, name: string, query: LogQuery): string {
    if (!pod) throw notFound(resourceInfo.pods, name);
    const container = containerOf(pod, name, query.container);
    const text = this.#texts.get(keyOf(namespace, name, container, query.previous));
    if (text === undefined) {
      throw new StatusError(
        404,
        query.previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" has no log`,
        'NotFound',
      );
    }
    // As the kubelet's ReadLogs (pkg/kubelet/kuberuntime/logs): seek to the start of the last tailLines lines, then
    // write at most limitBytes from there. So the limit counts from the START of the window, and a window larger
    // than the limit loses its end, the last lines.
    return limitBytes(tail(text, query.tailLines), query.limitBytes);
  }
}

function containerOf(pod: K8sObject, podName: string, requested: string | undefined): string {
  const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((container) => container.name);
  if (requested) {
    if (names.length > 0 && !names.includes(requested)) {
      throw new StatusError(400, `container ${requested} is not valid for pod ${podName}`);
    }
    return requested;
  }
  if (names.length === 1 && names[0] !== undefined) return names[0];
  throw new StatusError(400, `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`);
}

/**
 * The last n lines, each keeping its newline, as the kubelet returns them: a last line without its newline (still
 * being written) is not counted as a line but comes along (tail.FindTailLineStartIndex), and 0 gives nothing.
 * Not modelled: the runtime splits lines over 16 KiB into partial entries, each counted as a line by the kubelet.
 */
function tail(text: string, lines: number | undefined): string {
  if (lines === undefined || lines < 0) return text;
  if (lines === 0) return '';
  const complete = text.match(/[^\n]*\n/g) ?? [];
  const fragment = text.slice(complete.join('').length);
  return complete.slice(-lines).join('') + fragment;
}

function limitBytes(text: string, limit: number | undefined): string {
  if (limit === undefined || limit <= 0) return text;
  const bytes = Buffer.from(text);
  return bytes.length <= limit ? text : bytes.subarray(0, limit).toString();
}

function keyOf(namespace: string, pod: string, container: string, previous: boolean): string {
  return JSON.stringify([namespace, pod, container, previous]);
}
