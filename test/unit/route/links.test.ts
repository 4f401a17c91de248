import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadYaml } from '@kubernetes/client-node';
import { fillTemplate, linksFor, linkValuesOf, MAX_LINKS, parseLinkTemplates, rfc3339, runbookOf, templateProblems, type LinkValues } from '../../../src/route/links.ts';
import type { Annotated } from '../../../src/route/owners.ts';
import { oomKilledAlert } from '../../fixtures/alerts.ts';

const values: LinkValues = {
  cluster: 'prod-eu',
  namespace: 'batch',
  job: 'nightly-report-28641600',
  cronjob: 'nightly-report',
  pod: 'nightly-report-28641600-x7k2p',
  container: 'report',
  node: 'ip-10-0-1-23.ec2.internal',
  startedAt: new Date('2024-06-20T20:50:00Z'),
  failedAt: new Date('2024-06-20T20:52:19Z'),
};

const filled = (template: string, with_: LinkValues = values): string => {
  const result = fillTemplate(template, with_);
  assert.ok('url' in result, `missing ${'missing' in result ? result.missing.join(', ') : ''}`);
  return result.url;
};

describe('fillTemplate', () => {
  const table: [string, string][] = [
    ['https://logs.example/?ns={namespace}&job={job}', 'https://logs.example/?ns=batch&job=nightly-report-28641600'],
    ['https://logs.example/{cluster}/{namespace}/{pod}/{container}', 'https://logs.example/prod-eu/batch/nightly-report-28641600-x7k2p/report'],
    ['https://x.example/?node={node}&cj={cronjob}', 'https://x.example/?node=ip-10-0-1-23.ec2.internal&cj=nightly-report'],
    ['https://x.example/?from={startedAt}&to={failedAt}', 'https://x.example/?from=2024-06-20T20%3A50%3A00Z&to=2024-06-20T20%3A52%3A19Z'],
    ['https://x.example/?from={startedAtMs}&to={failedAtMs}', 'https://x.example/?from=1718916600000&to=1718916739000'],
    ['https://x.example/?from={startedAtMs-5m}&to={failedAtMs+15m}', 'https://x.example/?from=1718916300000&to=1718917639000'],
    ['https://x.example/?from={failedAt-1h30m}', 'https://x.example/?from=2024-06-20T19%3A22%3A19Z'],
    ['https://x.example/?to={failedAt+500ms}', 'https://x.example/?to=2024-06-20T20%3A52%3A19.500Z'],
    // Braces that are no placeholder stay (percent-encoded, as everything RFC 3986 does not allow raw).
    ['https://grafana.example/explore?expr={namespace="{namespace}"}', 'https://grafana.example/explore?expr=%7Bnamespace=%22batch%22%7D'],
    ['https://[::1]:8443/a|b?q=[x]^`\\#{job}', 'https://[::1]:8443/a%7Cb?q=%5Bx%5D%5E%60%5C#nightly-report-28641600'],
    ['https://x.example/a b?q={job}', 'https://x.example/a%20b?q=nightly-report-28641600'],
  ];
  for (const [template, expected] of table) it(template, () => assert.equal(filled(template), expected));

  it('URL-encodes every value: odd characters cannot end a parameter or start another', () => {
    const odd: LinkValues = { ...values, job: 'a&b=c#d', namespace: 'x/../y', pod: 'p?q', container: '<!channel>', cluster: 'ünï cødé 🚀' };
    assert.equal(
      filled('https://x.example/{namespace}?job={job}&pod={pod}&c={container}&cl={cluster}', odd),
      'https://x.example/x%2F..%2Fy?job=a%26b%3Dc%23d&pod=p%3Fq&c=%3C!channel%3E&cl=%C3%BCn%C3%AF%20c%C3%B8d%C3%A9%20%F0%9F%9A%80',
    );
  });

  it('names every placeholder without a value, once', () => {
    assert.deepEqual(fillTemplate('https://x.example/{pod}/{cronjob}/{pod}', { ...values, pod: undefined, cronjob: '' }), { missing: ['pod', 'cronjob'] });
    assert.deepEqual(fillTemplate('https://x.example/{failedAtMs}', { ...values, failedAt: new Date(Number.NaN) }), { missing: ['failedAtMs'] });
    assert.deepEqual(fillTemplate('https://x.example/{cluster}', { namespace: 'a' }), { missing: ['cluster'] });
  });

  it('rfc3339 keeps milliseconds only when there are some', () => {
    assert.equal(rfc3339(new Date('2024-06-20T20:52:19Z')), '2024-06-20T20:52:19Z');
    assert.equal(rfc3339(new Date('2024-06-20T20:52:19.25Z')), '2024-06-20T20:52:19.250Z');
  });
});

describe('templateProblems and parseLinkTemplates', () => {
  const bad: [string, RegExp][] = [
    ['https://x.example/{pods}', /unknown placeholder \{pods\}/],
    ['https://x.example/{Namespace}', /unknown placeholder \{Namespace\}/],
    ['https://x.example/{job+5m}', /only times take an offset/],
    ['https://x.example/{failedAt+15min}', /an offset is \+ or -/],
    ['https://x.example/{failedAt+}', /an offset is \+ or -/],
    ['ftp://x.example/{job}', /must be an http:\/\/ or https:\/\/ URL \(got ftp:\)/],
    ['javascript:alert(1)', /must be an http/],
    ['x.example/{job}', /is not a URL/],
    ['{namespace}', /is not a URL/],
  ];
  for (const [template, expected] of bad) it(`refuses ${template}`, () => assert.match(templateProblems(template).join('\n'), expected));

  it('accepts real ones', () => {
    for (const template of [
      'https://grafana.example/explore?orgId=1&left={"datasource":"loki","queries":[{"expr":"{namespace=\\"{namespace}\\",pod=\\"{pod}\\"}"}],"range":{"from":"{startedAtMs-5m}","to":"{failedAtMs+5m}"}}',
      'https://console.cloud.google.com/logs/query;query=resource.labels.pod_name%3D%22{pod}%22;startTime={startedAt-5m};endTime={failedAt+5m}?project=my-project',
      'http://127.0.0.1:3000/runbooks/{cronjob}',
    ]) assert.deepEqual(templateProblems(template), [], template);
  });

  it('parses whitespace-separated name=URL entries; the label shows _ as a space', () => {
    const { templates, problems } = parseLinkTemplates('\n  View_logs=https://logs.example/?q={job}\n  runbook=https://wiki.example/{cronjob}  ');
    assert.deepEqual(problems, []);
    assert.deepEqual(templates.map((t) => ({ ...t })), [
      { name: 'View_logs', label: 'View logs', template: 'https://logs.example/?q={job}' },
      { name: 'runbook', label: 'runbook', template: 'https://wiki.example/{cronjob}' },
    ]);
    assert.ok(Object.isFrozen(templates));
  });

  it('one problem per bad entry, naming it', () => {
    const { templates, problems } = parseLinkTemplates('logs=https://x.example/{pods} https://nameless.example logs=https://x.example/{job} LOGS=https://x.example ok=https://x.example/{job} b@d=https://x.example');
    assert.deepEqual(templates.map((t) => t.name), ['logs', 'ok']);
    assert.equal(problems.length, 4, problems.join('\n'));
    assert.match(problems[0]!, /^"logs": unknown placeholder \{pods\}/);
    assert.match(problems[1]!, /^"https:\/\/nameless.example": each entry is name=URL/);
    assert.match(problems[2]!, /^"LOGS": given twice/);
    assert.match(problems[3]!, /^"b@d=https:\/\/x.example": each entry is name=URL/);
  });

  it(`at most ${MAX_LINKS} templates`, () => {
    const six = Array.from({ length: 6 }, (_, i) => `l${i}=https://x.example/${i}`).join(' ');
    assert.match(parseLinkTemplates(six).problems.join('\n'), /6 templates: at most 5/);
  });
});

describe('runbookOf', () => {
  const withRunbook = (value: string): Annotated => ({ metadata: { name: 'nightly-1', namespace: 'batch', annotations: { 'kube-job-alerts.io/runbook': value } } });
  const job: Annotated = { metadata: { name: 'nightly-1', namespace: 'batch' } };

  it('an http(s) URL becomes a Runbook button', () => {
    assert.deepEqual(runbookOf({ job: withRunbook(' https://wiki.example/runbooks/nightly ') }), { link: { label: 'Runbook', url: 'https://wiki.example/runbooks/nightly' } });
  });
  it('from the CronJob or Namespace when the Job has none', () => {
    assert.equal(runbookOf({ job, cronJob: undefined, namespace: { metadata: { name: 'batch', annotations: { 'kube-job-alerts.io/runbook': 'https://wiki.example/batch' } } } }).link?.url, 'https://wiki.example/batch');
  });
  const refused: [string, RegExp][] = [
    ['javascript:alert(document.cookie)', /only http:\/\/ and https:\/\/ links are shown/],
    ['ftp://files.example/runbook', /only http/],
    ['wiki/runbooks/nightly', /not a URL/],
    [`https://x.example/${'a'.repeat(3000)}`, /longer than Slack's 3000/],
  ];
  for (const [value, reason] of refused) {
    it(`refuses ${value.slice(0, 40)}, naming the object`, () => {
      const result = runbookOf({ job: withRunbook(value) });
      assert.equal(result.link, undefined);
      assert.match(result.warning!, /^Job batch\/nightly-1: kube-job-alerts.io\/runbook: "/);
      assert.match(result.warning!, reason);
    });
  }
  it('percent-encodes what the parser would: no raw < or > reaches Slack', () => {
    assert.equal(runbookOf({ job: withRunbook('https://x.example/<!channel>?q=<b>') }).link?.url, 'https://x.example/%3C!channel%3E?q=%3Cb%3E');
  });
  it('nothing when no object has one, or it is blank', () => {
    assert.deepEqual(runbookOf({ job }), {});
    assert.deepEqual(runbookOf({ job: withRunbook('  ') }), {});
  });
});

describe('linksFor', () => {
  const { templates } = parseLinkTemplates([
    'Logs=https://logs.example/?pod={pod}',
    'Schedule=https://cron.example/{cronjob}',
    'Node=https://nodes.example/{node}',
    'Cluster=https://k8s.example/{cluster}/{namespace}',
    'Job=https://k8s.example/{namespace}/{job}',
  ].join('\n'));
  const runbook: Annotated = { metadata: { name: 'nightly', namespace: 'batch', annotations: { 'kube-job-alerts.io/runbook': 'https://wiki.example/nightly' } } };

  it('the runbook first, then the templates in order, at most 5; the rest omitted with the reason', () => {
    const result = linksFor(templates, values, { job: { metadata: { name: 'j', namespace: 'batch' } }, cronJob: runbook });
    assert.deepEqual(result.links.map((link) => link.label), ['Runbook', 'Logs', 'Schedule', 'Node', 'Cluster']);
    assert.deepEqual(result.omitted, [{ name: 'Job', reason: 'at most 5 buttons' }]);
    assert.deepEqual(result.warnings, []);
  });

  it('a template whose value is missing is left out, with the reason; the others stay', () => {
    const result = linksFor(templates, { ...values, pod: undefined, cronjob: undefined });
    assert.deepEqual(result.links.map((link) => link.label), ['Node', 'Cluster', 'Job']);
    assert.deepEqual(result.omitted, [
      { name: 'Logs', reason: 'no value for {pod}' },
      { name: 'Schedule', reason: 'no value for {cronjob}' },
    ]);
  });

  it('a filled URL over Slack\'s limit is left out', () => {
    const long = parseLinkTemplates('Logs=https://logs.example/?pod={pod}').templates;
    const result = linksFor(long, { ...values, pod: 'p'.repeat(3000) });
    assert.deepEqual(result.links, []);
    assert.match(result.omitted[0]!.reason, /longer than Slack's 3000/);
  });

  it('linkValuesOf reads an Alert', () => {
    assert.deepEqual(linkValuesOf(oomKilledAlert), values);
  });
});

describe('README: the LINK_TEMPLATES examples', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Links: where the logs are'), readme.indexOf('### What is watched'));
  // The YAML block as a user would paste it under `env:`; YAML's folding joins the lines with spaces.
  const yaml = /```yaml\n(\s+- name: LINK_TEMPLATES\n[\s\S]*?)```/.exec(section)?.[1] ?? '';
  const env = (loadYaml(`env:\n${yaml}`) as { env: { name: string; value: string }[] }).env;
  const { templates, problems } = parseLinkTemplates(env[0]!.value);

  it('are valid', () => {
    assert.deepEqual(problems, []);
    assert.deepEqual(templates.map((t) => t.label), ['Logs', 'Cloud Logging']);
  });

  it('fill to the URLs the README shows', () => {
    const { links } = linksFor(templates, linkValuesOf(oomKilledAlert));
    assert.equal(
      links[0]!.url,
      'https://grafana.example.com/explore?schemaVersion=1&orgId=1&panes=%7B%22kja%22:%7B%22datasource%22:%22loki%22,%22queries%22:%5B%7B%22refId%22:%22A%22,%22expr%22:%22%7Bnamespace=%60batch%60,pod=~%60nightly-report-28641600-.*%60%7D%22,%22datasource%22:%7B%22type%22:%22loki%22,%22uid%22:%22loki%22%7D%7D%5D,%22range%22:%7B%22from%22:%221718916300000%22,%22to%22:%221718917039000%22%7D%7D%7D',
    );
    const cloud = links[1]!.url;
    assert.equal(
      cloud,
      'https://console.cloud.google.com/logs/query;query=resource.type%3D%22k8s_container%22%0Aresource.labels.cluster_name%3D%22prod-eu%22%0Aresource.labels.namespace_name%3D%22batch%22%0Alabels.%22k8s-pod%2Fjob-name%22%3D%22nightly-report-28641600%22;startTime=2024-06-20T20%3A45%3A00Z;endTime=2024-06-20T20%3A57%3A19Z?project=my-project',
    );
    const shown = /opens\n`…(;query=…[^`]+)`/.exec(readme)?.[1] ?? '';
    assert.ok(shown.length > 50, 'the README shows a filled URL');
    const [head, tail] = shown.split('…');
    assert.ok(cloud.includes(head!.replace(/…$/, '')) && cloud.endsWith(tail!), shown);
  });
});
