import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, TerraformStack } from 'cdktf';
import { Day2Terraform } from '../../e2e/lib/day2-terraform';
import { runTerraform, StandInValues, TerraformRun } from '../../e2e/lib/offline-terraform';
import { Fabric } from '../../constructs/fabric';
import { KvmHostProps } from '../../constructs/platforms/libvirt/kvm-host';
import { LibvirtPlatform } from '../../constructs/platforms/libvirt/libvirt-platform';
import { DEFAULT_IMAGE_CACHE_DIRECTORY, VERIFIED_IMAGES_ID } from '../../constructs/platforms/libvirt/verified-images';
import { threeNodeSpec } from '../fixtures';
import { describeWithTerraform } from './terraform-tier';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One terraform command; apply is offline (terraform_data and local-exec are built in). */
const TERRAFORM_TIMEOUT_MS = 120_000;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The real terraform binary runs the fetch-and-check of a base image, as the
 * libvirt platform synthesizes it (its terraform_data and the script asset,
 * without the libvirt resources, for which there is no provider here),
 * against an image served from 127.0.0.1 by this test.
 */
describeWithTerraform('test/tools/verified-image.test.ts', 'terraform fetches a base image and checks its SHA-256 before libvirt may read it', () => {
  const served = randomBytes(256 * 1024);
  const local = randomBytes(64 * 1024);
  let root: string;
  let server: Server;
  let requests = 0;
  let url: string;
  let localImage: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'afimage-'));
    localImage = path.join(root, 'local-image.qcow2');
    writeFileSync(localImage, local);
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/images/debian-12.qcow2') res.writeHead(200, { 'content-length': served.length }).end(served);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Plain http: allowed with a sha256, which is then the integrity check.
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/images/debian-12.qcow2`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Synthesizes a KVM fabric with these base images; returns the plan and the stack's directory (with its assets). */
  function synth(name: string, images: KvmHostProps['baseImage'][]): { plan: Json; stackDir: string } {
    const outdir = path.join(root, `${name}-synth`);
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'stack');
    const hosts = images.map((baseImage, i) => ({ name: `kvm${i + 1}`, uri: `qemu+ssh://root@kvm${i + 1}.example.net/system`, baseImage, network: { bridge: 'br-mgmt' } }));
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform: new LibvirtPlatform({ hosts }), lockFile: path.join(outdir, 'lock.json') });
    app.synth();
    const stackDir = path.join(outdir, 'stacks', 'stack');
    return { plan: JSON.parse(readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8')), stackDir };
  }

  /** A working directory with the plan's image fetches alone, as `terraform apply` in the stack's directory would run them. */
  function workdirOf(name: string, images: KvmHostProps['baseImage'][]): { dir: string; fetches: string[] } {
    const { plan, stackDir } = synth(name, images);
    const dir = path.join(root, name);
    mkdirSync(dir);
    cpSync(path.join(stackDir, 'assets'), path.join(dir, 'assets'), { recursive: true });
    const data = Object.fromEntries(Object.entries(plan.resource.terraform_data as Json).filter(([, r]) => String(r['//']?.metadata?.path).includes(`/libvirt/${VERIFIED_IMAGES_ID}/`)));
    writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ resource: { terraform_data: data } }, null, 2));
    return { dir, fetches: Object.keys(data).map((k) => `terraform_data.${k}`) };
  }

  async function terraform(dir: string, ...args: string[]): Promise<TerraformRun> {
    // The image server is on loopback: never through a proxy of the environment.
    return runTerraform(dir, args, { timeoutMs: TERRAFORM_TIMEOUT_MS, env: { no_proxy: '127.0.0.1', NO_PROXY: '127.0.0.1' } });
  }
  async function apply(dir: string, ...extra: string[]): Promise<TerraformRun> {
    const init = await terraform(dir, 'init', '-input=false', '-no-color');
    if (init.code !== 0) throw new Error(`terraform init failed:\n${init.stdout}${init.stderr}`);
    return terraform(dir, 'apply', '-auto-approve', '-input=false', '-no-color', ...extra);
  }
  const cacheOf = (dir: string) => path.join(dir, DEFAULT_IMAGE_CACHE_DIRECTORY);
  const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

  let good: { dir: string; fetches: string[] };

  it('downloads (or copies) each image, checks it and moves it into place named by its checksum; the URL is on no command line', async () => {
    good = workdirOf('good', [{ source: url, sha256: sha256(served) }, { source: localImage, sha256: sha256(local).toUpperCase() }]);
    expect(good.fetches).toHaveLength(2);
    const run = await apply(good.dir);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(filesIn(cacheOf(good.dir))).toEqual([`${sha256(served)}.qcow2`, `${sha256(local)}.qcow2`].sort());
    expect(readFileSync(path.join(cacheOf(good.dir), `${sha256(served)}.qcow2`)).equals(served)).toBe(true);
    expect(readFileSync(path.join(cacheOf(good.dir), `${sha256(local)}.qcow2`)).equals(local)).toBe(true);
    expect(requests).toBe(1);
    const executing = run.stdout.split('\n').filter((l) => l.includes('Executing:'));
    expect(executing).toHaveLength(2);
    for (const line of executing) expect(line).not.toMatch(/127\.0\.0\.1|local-image/);
    expect(run.stdout).toContain(`fetch-verified-image: ${url} has SHA-256 ${sha256(served)}: checked and in place at ${DEFAULT_IMAGE_CACHE_DIRECTORY}/${sha256(served)}.qcow2`);
  }, 3 * TERRAFORM_TIMEOUT_MS);

  it('does not download a checked file again when the fetch runs again', async () => {
    expect(good).toBeDefined();
    const run = await terraform(good.dir, 'apply', '-auto-approve', '-input=false', '-no-color', ...good.fetches.map((a) => `-replace=${a}`));
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(requests).toBe(1);
    expect(run.stdout).toContain(`is already there with SHA-256 ${sha256(served)}: not fetching ${url} again`);
    expect(filesIn(cacheOf(good.dir))).toHaveLength(2);
  }, TERRAFORM_TIMEOUT_MS);

  it('fails the apply on a checksum mismatch, naming the URL and both checksums, and leaves no file', async () => {
    const expected = sha256(Buffer.from('the image the config means'));
    const bad = workdirOf('bad', [{ source: url, sha256: expected }]);
    const before = requests;
    const run = await apply(bad.dir);
    expect(run.code).not.toBe(0);
    expect(requests).toBe(before + 1);
    // Terraform wraps long lines of a provisioner's error.
    const output = `${run.stdout}\n${run.stderr}`.replace(/\s+/g, ' ');
    expect(output).toContain(`fetch-verified-image: ${url} has SHA-256 ${sha256(served)}, but the config's sha256 is ${expected}: refusing it`);
    expect(output).toContain(`nothing was written to ${DEFAULT_IMAGE_CACHE_DIRECTORY}/${expected}.qcow2`);
    // No checked file and no partial download.
    expect(filesIn(cacheOf(bad.dir))).toEqual([]);
  }, 3 * TERRAFORM_TIMEOUT_MS);

  it("is left out of the e2e's day-2 Terraform, which boots its own image", () => {
    const { plan } = synth('day2', [{ source: url, sha256: sha256(served) }]);
    const dir = path.join(root, 'day2');
    const day2 = new Day2Terraform({ dir, namespace: 'unused', controlSocket: 'unused', standIns: new StandInValues(root, '198.51.100.10'), variables: {}, timeoutMs: TERRAFORM_TIMEOUT_MS });
    day2.configure(plan);
    const written = JSON.parse(readFileSync(path.join(dir, 'main.tf.json'), 'utf8')) as Json;
    const paths = Object.values(written.resource.terraform_data as Json).map((r) => String(r['//']?.metadata?.path ?? ''));
    expect(paths.some((p) => p.includes(VERIFIED_IMAGES_ID))).toBe(false);
    // The domains' stand-ins are still there.
    expect(Object.keys(written.resource.terraform_data).length).toBeGreaterThanOrEqual(3);
  });
});
