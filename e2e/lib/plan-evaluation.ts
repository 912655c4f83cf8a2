import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * Evaluates the cloud-init documents of a synthesized KVM plan exactly as
 * Terraform would, without any provider: the plan's locals are kept as they
 * are, every reference to a resource attribute (generated passwords, the
 * TLS certificate and key) becomes a variable whose value this run makes up,
 * and each `libvirt_cloudinit_disk`'s user_data, meta_data and
 * network_config become outputs. `terraform init` and `terraform apply`
 * then run offline, and `terraform output -json` gives the documents.
 */

/** One node's NoCloud documents as Terraform evaluated them. */
export interface EvaluatedSeed {
  readonly node: string;
  readonly userData: string;
  readonly metaData: string;
  readonly networkConfig: string;
}

export interface PlanEvaluation {
  readonly seeds: EvaluatedSeed[];
  /** The values this run gave each stand-in variable, e.g. `random_password__Fabric_secrets_haproxy_stats_password_41A712BC__result`. */
  readonly variables: Record<string, string>;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** References to attributes of resources the evaluation has no provider for. */
const REFERENCE = /\b(random_password|tls_private_key|tls_self_signed_cert)\.([A-Za-z0-9_-]+)\.([a-z_]+)\b/g;

export function terraformAvailable(): boolean {
  return spawnSync('terraform', ['version'], { stdio: 'ignore', env: terraformEnv() }).status === 0;
}

function terraformEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0' };
}

/** Values for the stand-ins: fresh for every run, never stored. */
function standInValues(names: Set<string>, workdir: string, vip: string): Record<string, string> {
  const values: Record<string, string> = {};
  let cert: { certPem: string; keyPem: string } | undefined;
  for (const name of names) {
    const [type, , attr] = name.split('__');
    if (type === 'random_password') {
      values[name] = randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
    } else {
      cert ??= selfSignedCertificate(workdir, vip);
      values[name] = attr === 'cert_pem' ? cert.certPem : cert.keyPem;
    }
  }
  return values;
}

function selfSignedCertificate(workdir: string, vip: string): { certPem: string; keyPem: string } {
  const key = path.join(workdir, 'tls-key.pem');
  const crt = path.join(workdir, 'tls-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=fabric.e2e', '-addext', `subjectAltName=IP:${vip}`, '-days', '2', '-keyout', key, '-out', crt], { stdio: 'ignore' });
  return { certPem: readFileSync(crt, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

function rewrite(value: unknown, names: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_m, type: string, name: string, attr: string) => {
      const variable = `${type}__${name}__${attr}`;
      names.add(variable);
      return `var.${variable}`;
    });
  }
  if (Array.isArray(value)) return value.map((v) => rewrite(v, names));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, names)]));
  return value;
}

/** Evaluates every cloud-init disk of `planFile` (a synthesized cdk.tf.json). */
export function evaluateCloudInitDisks(planFile: string, timeoutMs = 120000): PlanEvaluation {
  const plan: Json = JSON.parse(readFileSync(planFile, 'utf8'));
  const disks: Json = plan.resource?.libvirt_cloudinit_disk ?? {};
  const workdir = mkdtempSync(path.join(tmpdir(), 'afeval-'));
  try {
    const names = new Set<string>();
    const locals = rewrite(plan.locals ?? {}, names) as Json;
    const output: Json = {};
    const nodeOf = new Map<string, string>();
    for (const [id, disk] of Object.entries(disks)) {
      const node = String((disk as Json).name).replace(/-cloudinit\.iso$/, '').replace(/^[^-]+-/, '');
      nodeOf.set(id, node);
      for (const attr of ['user_data', 'meta_data', 'network_config']) {
        output[`${id}__${attr}`] = { value: rewrite((disk as Json)[attr] ?? '', names), sensitive: true };
      }
    }
    const vipOutput = Object.entries((plan.output ?? {}) as Json).find(([key]) => /^Fabric_vip_[0-9A-F]{8}$/.test(key));
    const vip = String(vipOutput?.[1].value ?? '127.0.0.1');
    const variables = standInValues(names, workdir, vip);
    const variable = Object.fromEntries([...names].map((n) => [n, { type: 'string', sensitive: true }]));
    writeFileSync(path.join(workdir, 'main.tf.json'), JSON.stringify({ variable, locals, output }, null, 2));
    writeFileSync(path.join(workdir, 'stand-ins.auto.tfvars.json'), JSON.stringify(variables));
    const tf = (...args: string[]) => execFileSync('terraform', args, { cwd: workdir, env: terraformEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    tf('init', '-input=false', '-no-color');
    tf('apply', '-auto-approve', '-input=false', '-no-color');
    const values: Json = JSON.parse(tf('output', '-json', '-no-color'));
    const seeds = [...nodeOf].map(([id, node]) => ({
      node,
      userData: values[`${id}__user_data`].value as string,
      metaData: values[`${id}__meta_data`].value as string,
      networkConfig: values[`${id}__network_config`].value as string,
    }));
    return { seeds: seeds.sort((a, b) => a.node.localeCompare(b.node)), variables };
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}
