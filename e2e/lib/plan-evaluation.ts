import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { rewriteReferences, sensitiveVariables, StandInValues, terraformSync, writeTfvars } from './offline-terraform';

export { terraformAvailable } from './offline-terraform';

/**
 * Evaluates the cloud-init documents of a synthesized KVM plan exactly as
 * Terraform would, without any provider: the plan's locals are kept as they
 * are, every reference to a resource attribute (generated passwords, the
 * TLS certificate and keys, the SSH host keys) becomes a variable whose value
 * this run makes up (see offline-terraform.ts), and each
 * `libvirt_cloudinit_disk`'s user_data, meta_data and network_config become
 * outputs. `terraform init` and `terraform apply` then run offline, and
 * `terraform output -json` gives the documents.
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

/** The fabric VIP of a synthesized plan (its Fabric_vip output), the address the stand-in certificate is made for. */
export function planVip(plan: Json): string {
  const vipOutput = Object.entries((plan.output ?? {}) as Json).find(([key]) => /^Fabric_vip_[0-9A-F]{8}$/.test(key));
  return String(vipOutput?.[1].value ?? '127.0.0.1');
}

/**
 * Evaluates every cloud-init disk of `planFile` (a synthesized cdk.tf.json).
 * With `standIns`, the values already made in this run are used again (a day-2
 * step evaluates the plan it applies with the secrets and keys the fabric was
 * booted with); without, a fresh set is made and forgotten.
 */
export function evaluateCloudInitDisks(planFile: string, standIns?: StandInValues, timeoutMs = 120000): PlanEvaluation {
  const plan: Json = JSON.parse(readFileSync(planFile, 'utf8'));
  const disks: Json = plan.resource?.libvirt_cloudinit_disk ?? {};
  const workdir = mkdtempSync(path.join(tmpdir(), 'afeval-'));
  try {
    const names = new Set<string>();
    const locals = rewriteReferences(plan.locals ?? {}, names) as Json;
    const output: Json = {};
    const nodeOf = new Map<string, string>();
    for (const [id, disk] of Object.entries(disks)) {
      const node = String((disk as Json).name).replace(/-cloudinit\.iso$/, '').replace(/^[^-]+-/, '');
      nodeOf.set(id, node);
      for (const attr of ['user_data', 'meta_data', 'network_config']) {
        output[`${id}__${attr}`] = { value: rewriteReferences((disk as Json)[attr] ?? '', names), sensitive: true };
      }
    }
    const variables = (standIns ?? new StandInValues(workdir, planVip(plan))).valuesOf(names, plan);
    writeFileSync(path.join(workdir, 'main.tf.json'), JSON.stringify({ variable: sensitiveVariables(names), locals, output }, null, 2));
    writeTfvars(workdir, variables);
    const tf = (...args: string[]) => terraformSync(workdir, args, timeoutMs);
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
