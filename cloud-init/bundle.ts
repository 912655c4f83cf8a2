import { createHash } from 'node:crypto';
import { FabricModel, NodeModel } from '../model/fabric-model';
import { APPLY_BUNDLE_CONF, APPLY_BUNDLE_SCRIPT } from './apply-bundle-agent';
import { DATABASE_CLIENT_ENV, DATABASE_ENV } from './database';
import { FIREWALL_CONFIG } from './firewall';
import { HAPROXY_CONFIG, TLS_BUNDLE_PATH } from './haproxy';
import { KEEPALIVED_CONFIG } from './keepalived';
import { MONITORING_CHECK_CONF } from './monitoring';
import { CHECK_SERVICE_SCRIPT, DATABASE_ACCOUNTS_SCRIPT, PROBES_LIBRARY } from './node-paths';
import { RenderedFile } from './rendered-file';
import { WATCHDOG_CONF } from './watchdog';

/**
 * A node's files fall in two parts:
 *  - its configuration bundle: the files that depend on the fabric's
 *    membership and settings and that a running node takes up again when they
 *    change (fabric-apply-bundle writes them and reloads their daemon);
 *  - everything else cloud-init gets only when the VM is created: its identity
 *    (hostname, addresses and MACs in the network-config, the instance-id in
 *    the meta-data) and the first-boot files (units, drop-ins, scripts, the
 *    agent itself, sysctl and tmpfiles). A few scripts are bundle files, each
 *    listed below with why.
 * The first boot writes both. Afterwards only bundles are delivered.
 */

/**
 * What takes a changed bundle file up on a running node, in the order the agent
 * reloads them ('none': read afresh on every use). The agent
 * (cloud-init/assets/fabric-apply-bundle) knows exactly these; a unit test
 * keeps its list and order in step.
 */
export const BUNDLE_RELOADS = ['nftables', 'database-accounts', 'application', 'haproxy', 'keepalived', 'fabric-watchdog', 'none'] as const;
export type BundleReload = (typeof BUNDLE_RELOADS)[number];

/**
 * Every bundle file, with what takes it up and what it depends on. A path not
 * listed here is a first-boot file.
 */
const BUNDLE_FILES: ReadonlyMap<string, BundleReload> = new Map<string, BundleReload>([
  // Who may reach the node: peers, balancers, application servers (membership) and the operator networks.
  [FIREWALL_CONFIG, 'nftables'],
  // Backends (membership), timeouts, health checks, sticky cookie, ports, the stats password.
  [HAPROXY_CONFIG, 'haproxy'],
  // The certificate.
  [TLS_BUNDLE_PATH, 'haproxy'],
  // Peers, priorities, VIPs, advert and check intervals.
  [KEEPALIVED_CONFIG, 'keepalived'],
  // Probe settings and the probes themselves.
  [WATCHDOG_CONF, 'fabric-watchdog'],
  // The database hooks' peer and witnesses (membership; they read it on every call), and the hosts
  // each database account is for: the accounts script makes the server's accounts match it.
  [DATABASE_ENV, 'database-accounts'],
  [DATABASE_ACCOUNTS_SCRIPT, 'database-accounts'],
  // The application's database connection, with the password a rotation changes: the service reads
  // it only when it starts, so the agent restarts it and waits until it serves again. (The database
  // CA file beside it stays a first-boot file: rotating the CA is another change.)
  [DATABASE_CLIENT_ENV, 'application'],
  // The agent's own settings (the node's VRRP instances, the health port); it reads the bundle's copy.
  [APPLY_BUNDLE_CONF, 'none'],
  // The monitoring service's command check, which keepalived.conf may name; read at every check.
  [MONITORING_CHECK_CONF, 'none'],
  // The scripts keepalived.conf names with their arguments, and the probe library they source: they
  // travel with it, so that a running node created by an earlier appliance-fabric gets the check a
  // new keepalived.conf names (keepalived drops a tracked script it cannot find, silently for the
  // VIP). keepalived runs the check afresh each interval; the watchdog sources the library when it
  // starts.
  [CHECK_SERVICE_SCRIPT, 'none'],
  [PROBES_LIBRARY, 'none'],
]);

export interface BundleFile extends RenderedFile {
  readonly reload: BundleReload;
}

/** One node's configuration bundle. */
export interface NodeBundle {
  readonly node: string;
  /** Sorted by path. */
  readonly files: readonly BundleFile[];
  /** sha256 (hex) of the manifest's `file` lines: changes exactly when a bundle file's content, mode, owner or reload changes. */
  readonly hash: string;
  /** The manifest the agent verifies (see cloud-init/assets/fabric-apply-bundle). */
  readonly manifest: string;
}

/** What takes the file at `path` up on a running node, or undefined for a first-boot file. */
export function bundleReloadOf(path: string): BundleReload | undefined {
  return BUNDLE_FILES.get(path);
}

/** The node's files split into its bundle and its first-boot files. */
export function splitNodeFiles(files: readonly RenderedFile[]): { bundle: BundleFile[]; firstBoot: RenderedFile[] } {
  const bundle: BundleFile[] = [];
  const firstBoot: RenderedFile[] = [];
  for (const file of files) {
    const reload = bundleReloadOf(file.path);
    if (reload) bundle.push({ ...file, reload });
    else firstBoot.push(file);
  }
  return { bundle: bundle.sort(byPath), firstBoot };
}

/** Code-unit order, the same on every machine (no locale). */
function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The bytes the file has on the node. */
export function bytesOnNode(file: RenderedFile): Buffer {
  return Buffer.from(file.content, file.base64 ? 'base64' : 'utf8');
}

/**
 * `file <sha256 of the bytes> <mode> <owner> <reload> <path>`: what the hash
 * covers, one line per file. `sha256` may be given as a Terraform expression
 * (the delivery hashes a file holding a secret in Terraform).
 */
export function manifestLine(file: BundleFile, sha256 = sha256Hex(bytesOnNode(file))): string {
  return `file ${sha256} ${file.permissions} ${file.owner ?? 'root:root'} ${file.reload} ${file.path}`;
}

/**
 * The node's configuration bundle from its rendered files. In a synthesized
 * plan secret contents are Terraform references, so a hash computed here covers
 * the references, not the secrets: the delivery (Terraform side) must hash the
 * evaluated files, which the manifest's form allows (sha256 per file, sha256 of
 * the lines).
 */
export function nodeBundle(model: FabricModel, node: NodeModel, files: readonly RenderedFile[]): NodeBundle {
  return assembleBundle(node.name, splitNodeFiles(files).bundle, [
    `# Configuration bundle of ${node.name} (fabric '${model.name}').`,
    `# Generated by appliance-fabric from construct ${model.constructPath}.`,
  ]);
}

/** A bundle of the given files for node `nodeName`; `comments` head its manifest. */
export function assembleBundle(nodeName: string, files: readonly BundleFile[], comments: readonly string[] = []): NodeBundle {
  const sorted = [...files].sort(byPath);
  const lines = sorted.map((f) => manifestLine(f));
  const hash = sha256Hex(lines.map((l) => `${l}\n`).join(''));
  const manifest = [
    ...comments,
    `# Apply on the node: ${APPLY_BUNDLE_SCRIPT} <this bundle: a directory with this manifest and files/, or one text file with data lines>.`,
    '# file <sha256> <mode> <owner> <what takes it up> <path>; the bundle hash is the sha256 of the file lines.',
    'format 1',
    `node ${nodeName}`,
    `bundle ${hash}`,
    ...lines,
    '',
  ].join('\n');
  return { node: nodeName, files: sorted, hash, manifest };
}

/** One file of a single-file bundle: its path and its bytes in base64 (either may be a Terraform expression). */
export interface BundleData {
  readonly path: string;
  readonly base64: string;
}

/**
 * A bundle as one text file, the form Terraform's file provisioner uploads:
 * the manifest followed by one `data <path> <base64>` line per file. The parts
 * are given as strings so that the delivery can pass Terraform expressions
 * (hashes and contents of files that hold secrets).
 */
export function bundleText(parts: { comments: readonly string[]; node: string; hash: string; fileLines: string; data: readonly BundleData[] }): string {
  return [...parts.comments, 'format 1', `node ${parts.node}`, `bundle ${parts.hash}`, `${parts.fileLines}${parts.data.map((d) => `data ${d.path} ${d.base64}`).join('\n')}`, ''].join('\n');
}

/** A bundle whose contents are all known here as one text file (what the delivery uploads, without Terraform). */
export function bundleTextOf(bundle: NodeBundle): string {
  const lines = bundle.manifest.split('\n');
  return bundleText({
    comments: lines.filter((line) => line.startsWith('#')),
    node: bundle.node,
    hash: bundle.hash,
    fileLines: lines.filter((line) => line.startsWith('file ')).map((line) => `${line}\n`).join(''),
    data: bundle.files.map((f) => ({ path: f.path, base64: bytesOnNode(f).toString('base64') })),
  });
}

/** A bundle as a directory: `manifest` and `files/<absolute path>`, each with its bytes (what the agent reads). */
export function bundleDirectoryEntries(bundle: NodeBundle): { relativePath: string; data: Buffer }[] {
  return [
    { relativePath: 'manifest', data: Buffer.from(bundle.manifest, 'utf8') },
    ...bundle.files.map((f) => ({ relativePath: `files${f.path}`, data: bytesOnNode(f) })),
  ];
}
