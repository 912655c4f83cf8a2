import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';

/**
 * What the e2e needs to run a synthesized plan with the real terraform
 * binary on a machine where no provider can be downloaded: every reference
 * to an attribute of a provider resource (a generated password, a TLS or
 * SSH key, the certificate) becomes a sensitive variable, and this run
 * makes up each value once and keeps it for every later step, so that what
 * cloud-init got at boot and what a day-2 apply delivers agree.
 *
 * The values live in memory and in files below one directory that only root
 * can read (the caller's, removed at the end of the run): keys and the
 * certificate as openssl wrote them, and a 0600 tfvars file per working
 * directory. None is ever put on a command line or in a log.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** References to attributes of resources that offline evaluation has no provider for. */
const PROVIDER_REFERENCE = /\b(random_password|tls_private_key|tls_self_signed_cert|tls_locally_signed_cert)\.([A-Za-z0-9_-]+)\.([a-z_]+)\b/g;

/**
 * The provider resource types whose attributes become stand-in variables
 * (a `tls_cert_request` is read only by the `tls_locally_signed_cert` it
 * feeds, whose stand-in reads the request's settings from the plan).
 */
export const STOOD_IN_TYPES: ReadonlySet<string> = new Set(['random_password', 'tls_private_key', 'tls_self_signed_cert', 'tls_locally_signed_cert', 'tls_cert_request']);

export function terraformEnv(): NodeJS.ProcessEnv {
  // Not the caller's SSH agent: the provisioners get the deploy key from a variable (or an agent of the run's own, see runTerraform's env).
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_CLI_CONFIG_FILE: '/dev/null' };
  delete env.SSH_AUTH_SOCK;
  return env;
}

export function terraformAvailable(): boolean {
  return spawnSync('terraform', ['version'], { stdio: 'ignore', env: terraformEnv() }).status === 0;
}

/** The variable standing in for `<type>.<name>.<attribute>`. */
export function standInVariable(type: string, name: string, attribute: string): string {
  return `${type}__${name}__${attribute}`;
}

/** `value` with every provider-attribute reference replaced by its stand-in variable, whose names are added to `names`. */
export function rewriteReferences(value: unknown, names: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(PROVIDER_REFERENCE, (_m, type: string, name: string, attr: string) => {
      const variable = standInVariable(type, name, attr);
      names.add(variable);
      return `var.${variable}`;
    });
  }
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, names));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteReferences(v, names)]));
  return value;
}

/** Declarations of `names` as sensitive string variables. */
export function sensitiveVariables(names: Iterable<string>): Json {
  return Object.fromEntries([...names].map((n) => [n, { type: 'string', sensitive: true }]));
}

/** Writes `values` as a 0600 auto-loaded tfvars file in `workdir` (which must be root's only). */
export function writeTfvars(workdir: string, values: Record<string, string | null>): void {
  const file = path.join(workdir, 'stand-ins.auto.tfvars.json');
  writeFileSync(file, JSON.stringify(values), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * The stand-in values of one run. Each `tls_private_key` gets a key of its
 * own (ECDSA P-256, as the plan asks for every key it generates), a
 * `tls_self_signed_cert` is signed for the fabric VIP with the key the plan
 * gives it, and a `random_password` is 32 letters and digits.
 */
export class StandInValues {
  private readonly values = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  /** `dir`: root's only, removed by the caller; `vip`: the certificate's address. */
  constructor(private readonly dir: string, private readonly vip: string) {}

  /** The values of `names`, made up on first use. `plan` (the synthesized JSON) tells which key a certificate is signed with. */
  valuesOf(names: Iterable<string>, plan: Json): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of names) {
      const key = this.keyOf(name, plan);
      let value = this.values.get(key);
      if (value === undefined) {
        value = this.make(name, plan);
        this.values.set(key, value);
      }
      out[name] = value;
    }
    return out;
  }

  /**
   * What a stand-in's value stays the same for: its name, and for a
   * `random_password` also its `keepers`, whose change makes the provider
   * generate a new one (a raised database.passwordGeneration).
   */
  private keyOf(name: string, plan: Json): string {
    const [type, resource] = name.split('__');
    const keepers = type === 'random_password' ? plan.resource?.random_password?.[resource]?.keepers : undefined;
    return keepers === undefined ? name : `${name}#${JSON.stringify(keepers)}`;
  }

  private make(name: string, plan: Json): string {
    const [type, resource, attr] = name.split('__');
    if (type === 'random_password') {
      if (attr !== 'result') throw new Error(`no stand-in for random_password attribute ${attr}`);
      return randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 32);
    }
    if (type === 'tls_private_key') {
      const key = this.keyFile(resource);
      switch (attr) {
        case 'private_key_pem':
          return readFileSync(key, 'utf8');
        case 'public_key_pem':
          return execFileSync('openssl', ['pkey', '-in', key, '-pubout'], { encoding: 'utf8' });
        case 'public_key_openssh':
          // Terraform's tls provider ends the line with a newline and no comment.
          return `${execFileSync('ssh-keygen', ['-y', '-f', key], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ')}\n`;
        default:
          throw new Error(`no stand-in for tls_private_key attribute ${attr}`);
      }
    }
    if (type === 'tls_self_signed_cert') {
      if (attr !== 'cert_pem') throw new Error(`no stand-in for tls_self_signed_cert attribute ${attr}`);
      const signer = /\btls_private_key\.([A-Za-z0-9_-]+)\.private_key_pem\b/.exec(String(plan.resource?.tls_self_signed_cert?.[resource]?.private_key_pem ?? ''))?.[1];
      if (!signer) throw new Error(`tls_self_signed_cert.${resource}: the plan names no tls_private_key to sign it with`);
      const crt = path.join(this.dir, `${resource}.crt.pem`);
      execFileSync('openssl', ['req', '-x509', '-key', this.keyFile(signer), '-subj', '/CN=fabric.e2e', '-addext', `subjectAltName=IP:${this.vip}`, '-days', '2', '-out', crt], { stdio: 'ignore' });
      return readFileSync(crt, 'utf8');
    }
    if (type === 'tls_locally_signed_cert') {
      if (attr !== 'cert_pem') throw new Error(`no stand-in for tls_locally_signed_cert attribute ${attr}`);
      return this.locallySigned(resource, plan);
    }
    throw new Error(`no stand-in for ${name}`);
  }

  /**
   * A certificate for the addresses the plan's `tls_cert_request` names,
   * with the request's key, signed by the stand-in of the CA certificate and
   * key the plan gives (the same CA certificate the nodes get, made first if
   * it is not yet).
   */
  private locallySigned(resource: string, plan: Json): string {
    const signed = plan.resource?.tls_locally_signed_cert?.[resource] ?? {};
    const ref = (value: unknown, type: string, attr: string) => new RegExp(`\\b${type}\\.([A-Za-z0-9_-]+)\\.${attr}\\b`).exec(String(value ?? ''))?.[1];
    const requestName = ref(signed.cert_request_pem, 'tls_cert_request', 'cert_request_pem');
    const caKey = ref(signed.ca_private_key_pem, 'tls_private_key', 'private_key_pem');
    const caCert = ref(signed.ca_cert_pem, 'tls_self_signed_cert', 'cert_pem');
    const request = requestName ? plan.resource?.tls_cert_request?.[requestName] : undefined;
    const key = ref(request?.private_key_pem, 'tls_private_key', 'private_key_pem');
    if (!request || !caKey || !caCert || !key) throw new Error(`tls_locally_signed_cert.${resource}: the plan does not name its request, its request's key, or its CA's certificate and key`);
    // Making the CA's stand-in (once) leaves its certificate where the self-signed stand-in writes it.
    this.valuesOf([standInVariable('tls_self_signed_cert', caCert, 'cert_pem')], plan);
    const caFile = path.join(this.dir, `${caCert}.crt.pem`);
    const csr = path.join(this.dir, `${resource}.csr.pem`);
    const ext = path.join(this.dir, `${resource}.ext`);
    const crt = path.join(this.dir, `${resource}.crt.pem`);
    const names = [...((request.ip_addresses ?? []) as string[]).map((a) => `IP:${a}`), ...((request.dns_names ?? []) as string[]).map((d) => `DNS:${d}`)];
    execFileSync('openssl', ['req', '-new', '-key', this.keyFile(key), '-subj', '/CN=fabric.e2e database', '-out', csr], { stdio: 'ignore' });
    writeFileSync(ext, `subjectAltName=${names.join(',')}\nextendedKeyUsage=serverAuth\n`);
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', this.keyFile(caKey), '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', crt], { stdio: 'ignore' });
    return readFileSync(crt, 'utf8');
  }

  /** The private key standing in for tls_private_key.<resource>, made once (PKCS#8 PEM, mode 0600). */
  private keyFile(resource: string): string {
    let file = this.keys.get(resource);
    if (!file) {
      file = path.join(this.dir, `${resource}.key.pem`);
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], { stdio: 'ignore' });
      chmodSync(file, 0o600);
      this.keys.set(resource, file);
    }
    return file;
  }
}

export interface TerraformRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/**
 * Runs terraform in `cwd` without blocking the event loop (the e2e serves
 * the VM control socket and streams requests meanwhile), bounded by
 * `timeoutMs` (its process group is killed then), inside `namespace` when
 * given, its output appended to `logFile` as it comes.
 */
export function runTerraform(cwd: string, args: string[], options: { namespace?: string; timeoutMs: number; logFile?: string; env?: Record<string, string> }): Promise<TerraformRun> {
  const t0 = Date.now();
  const [cmd, argv] = options.namespace ? ['ip', ['netns', 'exec', options.namespace, 'terraform', ...args]] : ['terraform', args];
  return new Promise((resolve) => {
    const p = spawn(cmd, argv, { cwd, env: { ...terraformEnv(), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    // The log follows the run as it goes (terraform prints no sensitive value: it says "(sensitive value)").
    const log = (d: Buffer) => options.logFile && appendFileSync(options.logFile, d);
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
      log(d);
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d;
      log(d);
    });
    const timer = setTimeout(() => {
      stderr += `\n[e2e] terraform ${args[0]} did not finish in ${options.timeoutMs / 1000} s: killed`;
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, options.timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

/** The synchronous form, for a short offline evaluation. Throws with terraform's output when it fails. */
export function terraformSync(cwd: string, args: string[], timeoutMs: number): string {
  return execFileSync('terraform', args, { cwd, env: terraformEnv(), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}
