/**
 * The end of a container's log, which is where it says why it died. Pure: kube/evidence.ts does the reads.
 *
 * Why reads need care: the pods/log API takes `tailLines` and `limitBytes`, and the kubelet applies `limitBytes`
 * from the START of the `tailLines` window (it seeks to the Nth line from the end, then writes at most limitBytes;
 * kubelet kuberuntime/logs ReadLogs). So 30 lines of 4 KB under a 64 KB limit give the first 16 lines of the window
 * and never the last, the `FATAL` one. A read is therefore asked for generously, and when it comes back full (cut
 * by the limit) asked again with fewer lines, until the window fits; the bound on what is kept is applied here,
 * from the front.
 */

/** Log text as lines, oldest first; a final newline ends the last line rather than starting an empty one. */
export function logLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * Whether a read asked with `limitBytes` may have been cut by it: the body is that long (re-encoded, a character cut
 * in half by the kubelet became U+FFFD, which is never shorter than what it replaced).
 */
export function cutByLimit(text: string, limitBytes: number): boolean {
  return Buffer.byteLength(text, 'utf8') >= limitBytes;
}

/**
 * How many lines to ask for after a read of `asked` lines came back cut: no more than the complete lines that fit
 * (the window's oldest lines, the best guess of its line length) and at most half, so reads shrink fast; at least 1.
 */
export function fewerLines(cutText: string, asked: number): number {
  const complete = cutText.split('\n').length - 1;
  return Math.max(1, Math.min(complete, Math.floor(asked / 2)));
}

/**
 * The last `maxLines` lines, then, from the front, as many as fit in `maxBytes` (UTF-8); when even the last line
 * does not fit, its end, behind `…`. `cut` says whether the byte bound left anything of those lines out.
 */
export function keepEnd(lines: readonly string[], maxLines: number, maxBytes: number): { lines: string[]; cut: boolean } {
  const window = lines.slice(-maxLines);
  const kept: string[] = [];
  let used = 0;
  for (let i = window.length - 1; i >= 0; i--) {
    const line = window[i]!;
    const cost = Buffer.byteLength(line, 'utf8') + 1;
    if (used + cost > maxBytes) {
      if (kept.length === 0) kept.push(`…${endOf(line, maxBytes - 4)}`);
      return { lines: kept, cut: true };
    }
    kept.unshift(line);
    used += cost;
  }
  return { lines: kept, cut: false };
}

/** The last characters of `line` that take at most `maxBytes` in UTF-8, never half a surrogate pair. */
function endOf(line: string, maxBytes: number): string {
  let start = line.length;
  let bytes = 0;
  while (start > 0) {
    const code = line.codePointAt(start - 1)!;
    const low = code >= 0xdc00 && code <= 0xdfff && start >= 2;
    const width = low ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + width > maxBytes) break;
    bytes += width;
    start -= low ? 2 : 1;
  }
  return line.slice(start);
}
