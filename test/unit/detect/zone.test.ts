import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextOffsetChange, offsetMs, zoneProblem } from '../../../src/detect/zone.ts';

const H = 3_600_000;
const at = (iso: string) => Date.parse(iso);

describe('zoneProblem: the names the API server and the controller accept', () => {
  const rows: [string, string | undefined][] = [
    ['UTC', undefined],
    ['Etc/UTC', undefined],
    ['Europe/Berlin', undefined],
    ['America/Argentina/Buenos_Aires', undefined],
    ['EST', undefined],
    ['Mars/Olympus', 'unknown time zone Mars/Olympus'],
    ['europe/berlin', 'unknown time zone europe/berlin'],
    ['+01:00', 'unknown time zone +01:00'],
    ['Europe//Berlin', 'unknown time zone Europe//Berlin'],
    ['../etc/passwd', 'unknown time zone ../etc/passwd'],
    ['Local', 'unknown time zone Local'],
    ['', 'unknown time zone '],
  ];
  for (const [name, expected] of rows) it(`${JSON.stringify(name)} -> ${expected ?? 'valid'}`, () => assert.equal(zoneProblem(name), expected));
});

describe('offsetMs and nextOffsetChange', () => {
  const offsets: [zone: string, instant: string, hours: number][] = [
    ['UTC', '2024-03-31T01:00:00Z', 0],
    ['Europe/Berlin', '2024-03-31T00:59:59Z', 1],
    ['Europe/Berlin', '2024-03-31T01:00:00Z', 2],
    ['Europe/Berlin', '2024-10-27T00:59:59.999Z', 2],
    ['Europe/Berlin', '2024-10-27T01:00:00Z', 1],
    ['Asia/Kolkata', '2024-06-01T00:00:00Z', 5.5],
    // Lord Howe Island moves by half an hour.
    ['Australia/Lord_Howe', '2024-04-06T14:59:59Z', 11],
    ['Australia/Lord_Howe', '2024-04-06T15:00:00Z', 10.5],
    // Samoa skipped 30 December 2011, from -10 to +14.
    ['Pacific/Apia', '2011-12-30T09:59:59Z', -10],
    ['Pacific/Apia', '2011-12-30T10:00:00Z', 14],
  ];
  for (const [zone, instant, hours] of offsets) it(`${zone} at ${instant}: ${hours} h`, () => assert.equal(offsetMs(zone, at(instant)), hours * H));

  const changes: [zone: string, after: string, until: string, expected: string | undefined][] = [
    ['Europe/Berlin', '2024-01-01T00:00:00Z', '2024-12-31T00:00:00Z', '2024-03-31T01:00:00Z'],
    ['Europe/Berlin', '2024-03-31T01:00:00Z', '2024-12-31T00:00:00Z', '2024-10-27T01:00:00Z'],
    ['Europe/Berlin', '2024-10-27T01:00:00Z', '2025-12-31T00:00:00Z', '2025-03-30T01:00:00Z'],
    ['Europe/Berlin', '2024-04-01T00:00:00Z', '2024-10-27T00:59:59Z', undefined],
    ['Europe/Berlin', '2024-04-01T00:00:00Z', '2024-10-27T01:00:00Z', '2024-10-27T01:00:00Z'],
    ['Pacific/Apia', '2011-12-01T00:00:00Z', '2012-01-31T00:00:00Z', '2011-12-30T10:00:00Z'],
    ['Asia/Kolkata', '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z', undefined],
    ['UTC', '2020-01-01T00:00:00Z', '2025-01-01T00:00:00Z', undefined],
  ];
  for (const [zone, after, until, expected] of changes) {
    it(`${zone}: first change in (${after}, ${until}] is ${expected}`, () =>
      assert.equal(nextOffsetChange(zone, at(after), at(until)), expected === undefined ? undefined : at(expected)));
  }
});
