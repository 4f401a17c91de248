// Kubeconfig files pointing at the emulator. Written as JSON, which is valid YAML, so both
// @kubernetes/client-node and kubectl read it without a YAML writer here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  token: string;
  namespace: string;
}

export function kubeconfigText({ server, caPem, token, namespace }: KubeconfigOptions): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'emulator', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'emulator-user', user: { token } }],
    contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'emulator-user', namespace } }],
    'current-context': 'emulator',
    preferences: {},
  };
  return JSON.stringify(config, null, 2) + '\n';
}

export function writeKubeconfigFile(directory: string, fileName: string, options: KubeconfigOptions): string {
  const path = join(directory, fileName);
  writeFileSync(path, kubeconfigText(options), { mode: 0o600 });
  return path;
}
