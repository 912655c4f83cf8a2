import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { rewriteReferences, runTerraform, sensitiveVariables, StandInValues, STOOD_IN_TYPES, TerraformRun, writeTfvars } from './offline-terraform';
import { VERIFIED_IMAGES_ID } from '../../constructs/platforms/libvirt/verified-images';
import { VM_CONTROL_ENV } from './vm-control';

/**
 * The day-2 Terraform of a synthesized KVM plan, run for real and offline:
 * one working directory and one state across every step of a run.
 *
 * From the plan's cdk.tf.json it keeps the variables, the locals and the
 * `terraform_data` resources (the per-node configuration delivery: file and
 * remote-exec provisioners over SSH); every reference to a provider
 * resource's attribute becomes a sensitive stand-in variable (see
 * offline-terraform.ts); each `libvirt_domain` becomes a `terraform_data`
 * whose `local-exec` provisioners boot and stop that node's QEMU VM through
 * the e2e (vm-control.ts), so Terraform's own graph boots and stops the VMs,
 * in its order. The other libvirt resources (volumes, cloud-init disks) are
 * what the e2e makes for each VM it boots (an overlay of the base image, the
 * seed from the plan's cloud-init disk), and are dropped, with the
 * `terraform_data` that fetches and checks a base image for those volumes
 * (the e2e boots its own image).
 *
 * terraform runs inside the client's network namespace, so the provisioners
 * reach the nodes' management addresses.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A domain's attributes that make libvirt replace it (ForceNew in dmacvicar/libvirt 0.8.3); its cloud-init disk is not among them here (ignore_changes). */
const DOMAIN_REPLACED_BY = ['name', 'vcpu', 'memory', 'xml'];
/** Resource types the e2e makes itself for every VM it boots. */
const MADE_BY_THE_E2E = new Set(['libvirt_volume', 'libvirt_cloudinit_disk']);
/** The construct path of a base image's fetch-and-check, which only the dropped volumes wait for. */
const IMAGE_FETCH_PATH = new RegExp(`/libvirt/${VERIFIED_IMAGES_ID}/`);

export interface Day2Options {
  /** The working directory (below a root-only directory of the run). */
  readonly dir: string;
  /** The client's network namespace. */
  readonly namespace: string;
  /** The e2e's VM control socket. */
  readonly controlSocket: string;
  /** The run's stand-in values, the ones its VMs booted with. */
  readonly standIns: StandInValues;
  /** Values for the plan's own variables (e.g. the deploy key), by name. */
  readonly variables: Record<string, string>;
  /** How long one terraform command may take. */
  readonly timeoutMs: number;
  /** An SSH agent holding the deploy key, for connections the plan gives no key (a removed block's may refer to nothing but self). */
  readonly sshAgentSocket?: string;
}

/** What one configured step holds. */
export interface Day2Configuration {
  /** The domain stand-ins, by node: their addresses for -replace and in the state. */
  readonly domains: Record<string, string>;
  /** The plan's terraform_data addresses. */
  readonly delivery: string[];
  /** Each node's replacement marker (`terraform apply -replace=` it replaces the node's VM), by node. */
  readonly markers: Record<string, string>;
}

export class Day2Terraform {
  /** Every domain stand-in configured so far: one that left the plan stays as `count = 0`, so its destroy provisioner (stop the VM) still runs. */
  private readonly domainsSeen = new Map<string, Json>();
  private initialized = false;
  /** Each terraform command run, with its output, for the results and for diagnosis. */
  readonly runs: { args: string[]; run: TerraformRun }[] = [];

  constructor(private readonly o: Day2Options) {
    mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  }

  /** Writes the offline configuration of `plan` (a synthesized cdk.tf.json) into the working directory. */
  configure(plan: Json): Day2Configuration {
    const names = new Set<string>();
    const resources: Json = plan.resource ?? {};
    for (const type of Object.keys(resources)) {
      if (type !== 'terraform_data' && type !== 'libvirt_domain' && !MADE_BY_THE_E2E.has(type) && !STOOD_IN_TYPES.has(type)) {
        throw new Error(`the day-2 runner has no stand-in for resource type ${type}`);
      }
    }
    if (plan.data && Object.keys(plan.data).length) throw new Error(`the day-2 runner has no stand-in for data sources (${Object.keys(plan.data).join(', ')})`);
    const node = `"${process.execPath}"`;
    const cli = `"${path.join(__dirname, 'vm-control.js')}"`;
    const environment = { [VM_CONTROL_ENV]: this.o.controlSocket };
    const domains: Record<string, string> = {};
    const current = new Map<string, Json>();
    for (const [name, domain] of Object.entries((resources.libvirt_domain ?? {}) as Json)) {
      const nodeName = String(domain.name).replace(/^[^-]+-/, '');
      domains[nodeName] = `terraform_data.${name}`;
      current.set(name, {
        triggers_replace: Object.fromEntries(DOMAIN_REPLACED_BY.map((k) => [k, JSON.stringify(domain[k] ?? null)])),
        input: { node: nodeName },
        // What replaces the domain replaces its stand-in (the node's replacement marker).
        ...(domain.lifecycle?.replace_triggered_by ? { lifecycle: { replace_triggered_by: domain.lifecycle.replace_triggered_by } } : {}),
        provisioner: [
          { 'local-exec': { command: `${node} ${cli} boot ${nodeName} \${self.id}`, environment } },
          { 'local-exec': { when: 'destroy', command: `${node} ${cli} stop ${nodeName} \${self.id}`, environment } },
        ],
      });
    }
    const data: Json = {};
    // A domain that left the plan through a `removed` block (its VM goes after the block's destroy-time provisioners,
    // e.g. the agent's --retire): the block is moved onto the stand-in, and the VM is stopped after them.
    const removed: Json[] = [];
    for (const block of (plan.removed ?? []) as Json[]) {
      const from = /^libvirt_domain\.(.+)$/.exec(String(block.from))?.[1];
      if (!from) continue; // Volumes and cloud-init disks are the e2e's own; they are not in this state.
      const standIn = this.domainsSeen.get(from);
      const stop = standIn?.provisioner.find((p: Json) => p['local-exec']?.when === 'destroy');
      removed.push({ ...block, from: `terraform_data.${from}`, provisioner: [...(block.provisioner ?? []), ...(stop ? [stop] : [])] });
    }
    const removedNames = new Set(removed.map((b) => String(b.from).replace(/^terraform_data\./, '')));
    // Without a removed block, a left domain stays as `count = 0`, so that its stand-in's destroy provisioner still runs
    // (a deleted block's never do); what its lifecycle referred to has left with it.
    for (const [name, block] of this.domainsSeen) if (!current.has(name) && !removedNames.has(name)) data[name] = { ...block, lifecycle: undefined, count: 0 };
    for (const [name, block] of current) {
      this.domainsSeen.set(name, block);
      data[name] = block;
    }
    const delivery: string[] = [];
    const markers: Record<string, string> = {};
    for (const [name, resource] of Object.entries((resources.terraform_data ?? {}) as Json)) {
      if (IMAGE_FETCH_PATH.test(String(resource['//']?.metadata?.path ?? ''))) continue;
      if (data[name]) throw new Error(`terraform_data.${name} is also the name of a domain stand-in`);
      const marker = /\/([^/]+)\/replacement$/.exec(String(resource['//']?.metadata?.path ?? ''));
      if (marker) markers[marker[1]] = `terraform_data.${name}`;
      else delivery.push(`terraform_data.${name}`);
      data[name] = this.retarget(rewriteReferences(resource, names) as Json);
    }
    const locals = rewriteReferences(plan.locals ?? {}, names) as Json;
    const variable = { ...(plan.variable ?? {}), ...sensitiveVariables(names) };
    const removedBlocks = rewriteReferences(removed, names) as Json[];
    writeFileSync(path.join(this.o.dir, 'main.tf.json'), JSON.stringify({ variable, locals, resource: { terraform_data: data }, ...(removedBlocks.length ? { removed: removedBlocks } : {}) }, null, 2));
    const given = Object.fromEntries(Object.entries(this.o.variables).filter(([k]) => k in variable));
    writeTfvars(this.o.dir, { ...this.o.standIns.valuesOf(names, plan), ...given });
    return { domains, delivery, markers };
  }

  /** References to a libvirt domain point at its stand-in; the resources the e2e makes itself cannot be referenced. */
  private retarget(resource: Json): Json {
    const text = JSON.stringify(resource);
    const made = [...MADE_BY_THE_E2E].find((t) => text.includes(`${t}.`));
    if (made) throw new Error(`a terraform_data refers to ${made}, which the day-2 runner does not stand in for`);
    return JSON.parse(text.replace(/\blibvirt_domain\./g, 'terraform_data.')) as Json;
  }

  private async tf(args: string[], timeoutMs = this.o.timeoutMs): Promise<TerraformRun> {
    if (!this.initialized) {
      const init = await runTerraform(this.o.dir, ['init', '-input=false', '-no-color'], { timeoutMs: 120000 });
      this.runs.push({ args: ['init'], run: init });
      if (init.code !== 0) return init;
      this.initialized = true;
    }
    const env: Record<string, string> = this.o.sshAgentSocket ? { SSH_AUTH_SOCK: this.o.sshAgentSocket } : {};
    const run = await runTerraform(this.o.dir, args, { namespace: this.o.namespace, timeoutMs, logFile: path.join(this.o.dir, 'terraform.log'), env });
    this.runs.push({ args, run });
    return run;
  }

  /** `terraform apply` of the configured step (extra arguments such as -replace=ADDR). */
  apply(...extra: string[]): Promise<TerraformRun> {
    return this.tf(['apply', '-auto-approve', '-input=false', '-no-color', ...extra]);
  }

  /** `terraform plan -detailed-exitcode`: 0 no change, 2 changes, 1 error. */
  planDetailed(): Promise<TerraformRun> {
    return this.tf(['plan', '-detailed-exitcode', '-input=false', '-no-color']);
  }

  /** The resource instances in the state. */
  async state(): Promise<string[]> {
    const r = await this.tf(['state', 'list'], 60000);
    return r.code === 0 ? r.stdout.trim().split('\n').filter(Boolean) : [];
  }
}

/** Terraform's own account of an apply: the order in which it finished creating (and destroying) resources. */
export function completions(run: TerraformRun): { address: string; what: 'created' | 'destroyed' }[] {
  const out: { address: string; what: 'created' | 'destroyed' }[] = [];
  for (const line of run.stdout.split('\n')) {
    const m = /^(\S+?)(?: \(deposed object \w+\))?: (Creation|Destruction) complete/.exec(line);
    if (m) out.push({ address: m[1], what: m[2] === 'Creation' ? 'created' : 'destroyed' });
  }
  return out;
}

/**
 * What the node agents said during an apply, as Terraform printed it: each
 * line of a remote-exec from `fabric-apply-bundle` (its steps, each with how
 * long the agent had run), with the resource it ran for, and Terraform's own
 * completion lines with their times. The agent logs names and hashes only.
 */
export function agentLines(run: TerraformRun): string[] {
  return run.stdout
    .split('\n')
    .filter((l) => /\(remote-exec\): fabric-apply-bundle: |(Creation|Destruction) complete after/.test(l))
    .map((l) => l.replace(/^terraform_data\./, '').trim());
}
