/**
 * deploy/ as `kubectl apply -k` sees it: rendered by kubectl's own kustomize and parsed into plain JSON objects, and
 * the RBAC rules it grants the daemon's ServiceAccount, in the shape the API-server emulator enforces (rbac.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadAllYaml, type V1EnvVar } from '@kubernetes/client-node';
import { kubectlPath } from './kubectl.ts';

const run = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A rendered object, plain JSON. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/**
 * One rule as the emulator's `rbac` option takes it (test/world/rbac.ts PolicyRule): `namespaces` present when the
 * rule comes from a Role bound by RoleBindings (it holds only there), absent for a ClusterRoleBinding (everywhere).
 */
export interface GrantedRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  namespaces?: string[];
}

/** `kubectl kustomize <dir>`; `dir` is relative to the repository root (or absolute). */
export async function renderDeployText(dir = 'deploy'): Promise<string> {
  const { stdout } = await run(kubectlPath, ['kustomize', resolve(repoRoot, dir)], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/**
 * Multi-document YAML to plain JSON. loadAllYaml makes class instances of the kinds it knows (and keeps only the
 * fields those classes declare); the JSON round trip turns them back into what the API server would receive.
 */
export function parseManifests(text: string): Manifest[] {
  return JSON.parse(JSON.stringify(loadAllYaml(text).filter((doc) => doc != null))) as Manifest[];
}

/**
 * `dir` with the given components of deploy/components/ (`pdb`, `monitoring`, ...), as a user's kustomization
 * would include them; rendered in a temporary directory (kustomize refers by relative paths only).
 */
export async function renderWithComponents(dir: string, components: readonly string[]): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'kustomize-'));
  try {
    const repo = relative(work, repoRoot);
    const lines = ['resources:', `  - ${repo}/${dir}`, 'components:', ...components.map((name) => `  - ${repo}/deploy/components/${name}`)];
    writeFileSync(join(work, 'kustomization.yaml'), `${lines.join('\n')}\n`);
    return await renderDeployText(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The rendered objects of `dir` (default `deploy`, the namespace-scoped install). */
export async function renderDeploy(dir = 'deploy'): Promise<Manifest[]> {
  return parseManifests(await renderDeployText(dir));
}

/**
 * Field names written in the YAML that parsing dropped because the Kubernetes type has no such field: typos that
 * `kubectl apply` (strict field validation) would refuse. Compares the keys of kustomize's normalized output,
 * line by line, with the keys of the parsed objects.
 */
export function unknownFields(text: string): string[] {
  const parsed = new Set<string>();
  const collect = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        parsed.add(key);
        collect(inner);
      }
    }
  };
  collect(parseManifests(text));
  const written = new Set<string>();
  for (const line of text.split('\n')) {
    const key = /^\s*(?:- )*("[^"]+"|'[^']+'|[^\s"'#-][^:]*?):(?:\s|$)/.exec(line)?.[1];
    if (key !== undefined) written.add(key.replace(/^["']|["']$/g, ''));
  }
  return [...written].filter((key) => !parsed.has(key)).sort();
}

/** The one object of this kind (and name, when given); throws when there is none or several. */
export function only<T = Manifest>(objects: readonly Manifest[], kind: string, name?: string): T {
  const found = objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as T;
}

interface Binding extends Manifest {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/**
 * What the Deployment's ServiceAccount may do: the rules of every Role and ClusterRole that a RoleBinding or
 * ClusterRoleBinding in `objects` grants it. Throws when it is granted nothing, or a binding names a missing role.
 */
export function roleRules(objects: readonly Manifest[]): GrantedRule[] {
  const deployment = only<Manifest & { spec: { template: { spec: { serviceAccountName?: string } } } }>(objects, 'Deployment');
  const account = { name: deployment.spec.template.spec.serviceAccountName ?? 'default', namespace: deployment.metadata.namespace };
  const rules: GrantedRule[] = [];
  for (const binding of objects.filter((object): object is Binding => object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding')) {
    const bindsAccount = (binding.subjects ?? []).some(
      (subject) => subject.kind === 'ServiceAccount' && subject.name === account.name && subject.namespace === account.namespace,
    );
    if (!bindsAccount) continue;
    const { kind, name } = binding.roleRef;
    // A RoleBinding may grant a ClusterRole too, but only in its own namespace.
    const scope = binding.kind === 'RoleBinding' ? { namespaces: [binding.metadata.namespace ?? 'default'] } : {};
    const role = objects.find(
      (object) => object.kind === kind && object.metadata.name === name && (kind === 'ClusterRole' || object.metadata.namespace === binding.metadata.namespace),
    ) as (Manifest & { rules?: GrantedRule[] }) | undefined;
    if (!role) throw new Error(`${binding.kind} ${binding.metadata.name} refers to ${kind} ${name}, which is not rendered`);
    for (const rule of role.rules ?? []) rules.push({ ...rule, ...scope });
  }
  if (rules.length === 0) throw new Error(`no rules are bound to ServiceAccount ${account.namespace}/${account.name}`);
  return rules;
}

/** The variables loadConfig declares (`NAME: validator(...)` in its cleanEnv spec); it ignores any other. */
export function configVariables(): string[] {
  const source = readFileSync(join(repoRoot, 'src/config.ts'), 'utf8');
  return [...source.matchAll(/^\s+([A-Z][A-Z0-9_]*):\s*\w+\(/gm)].map((match) => match[1]!);
}

/** The env a kubelet would give the container, with stand-ins for Secret and downward-API values. */
export function resolvedEnv(env: readonly V1EnvVar[]): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const variable of env) {
    if (variable.valueFrom?.secretKeyRef) resolved[variable.name] = 'https://hooks.slack.com/services/T000/B000/XXXXXXXX';
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') resolved[variable.name] = 'kube-job-alerts-5d8f7c9b6-x7k2p';
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') resolved[variable.name] = 'kube-job-alerts';
    else if (variable.valueFrom) throw new Error(`no stand-in for ${variable.name}'s valueFrom: add one to resolvedEnv`);
    else resolved[variable.name] = variable.value ?? '';
  }
  return resolved;
}
