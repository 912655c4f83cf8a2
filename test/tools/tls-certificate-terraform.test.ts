// The real terraform binary evaluates loadBalancer.tlsCertificate
// 'terraform-variables': the bundle HAProxy gets is the operator's
// certificate and key, and a value that is not PEM is refused before
// anything is created.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { FabricSecretsConstruct, tlsVariableNames } from '../../constructs/fabric-secrets';
import { terraformSync, writeTfvars } from '../../e2e/lib/offline-terraform';
import { buildFabricModel } from '../../model/build-model';
import { runOk } from '../harness/exec';
import { TEST_PLATFORM, threeNodeSpec } from '../fixtures';
import { testApp } from '../synth-helpers';
import { describeWithTerraform } from './terraform-tier';

describeWithTerraform('test/tools/tls-certificate-terraform.test.ts', "terraform evaluates the operator's own certificate", () => {
  let dir: string;
  let certificate: string;
  let key: string;
  const model = buildFabricModel(threeNodeSpec({ name: 'edge-fab', loadBalancer: { tlsCertificate: 'terraform-variables' } }), TEST_PLATFORM, 'stack/Fabric');
  const names = tlsVariableNames(model);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aftlsvar-'));
    runOk('openssl', ['req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-subj', '/CN=fabric.example', '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'crt.pem')], { timeoutMs: 60_000 });
    certificate = readFileSync(path.join(dir, 'crt.pem'), 'utf8');
    key = readFileSync(path.join(dir, 'key.pem'), 'utf8');
    // Only the variables and the bundle built from them: no provider can be downloaded here.
    const stack = new TerraformStack(testApp(), 'tls');
    const secrets = new FabricSecretsConstruct(stack, 'secrets', model);
    new TerraformOutput(stack, 'bundle', { value: secrets.tokens.tlsBundlePemBase64, sensitive: true });
    const plan = JSON.parse(Testing.synth(stack));
    writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ variable: plan.variable, output: plan.output }, null, 2));
    terraformSync(dir, ['init', '-input=false', '-no-color'], 60_000);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const apply = (values: Record<string, string>) => {
    writeTfvars(dir, values);
    try {
      terraformSync(dir, ['apply', '-auto-approve', '-input=false', '-no-color'], 60_000);
      return { ok: true, bundle: Buffer.from(JSON.parse(terraformSync(dir, ['output', '-json', '-no-color'], 60_000)).bundle.value, 'base64').toString() };
    } catch (e) {
      // Terraform frames and wraps its diagnostics: compare the words.
      return { ok: false, error: String((e as { stderr?: string }).stderr ?? e).replace(/[│╷╵]/g, ' ').replace(/\s+/g, ' ') };
    }
  };

  it("names the variables after the fabric, with '-' as '_'", () => {
    expect(names).toEqual({ certificate: 'edge_fab_tls_certificate_pem', privateKey: 'edge_fab_tls_private_key_pem' });
  });

  it('gives HAProxy the certificate, then the key, each ending in one newline, whatever whitespace surrounds them', () => {
    const r = apply({ [names.certificate]: `\n${certificate}\n\n`, [names.privateKey]: key.trimEnd() });
    expect(r.ok).toBe(true);
    expect(r.bundle).toBe(`${certificate.trim()}\n${key.trim()}\n`);
    // The bundle is what openssl reads as a certificate and a key that belong together.
    writeFileSync(path.join(dir, 'bundle.pem'), r.bundle!, { mode: 0o600 });
    const fromCert = runOk('openssl', ['x509', '-in', path.join(dir, 'bundle.pem'), '-noout', '-pubkey']);
    const fromKey = runOk('openssl', ['pkey', '-in', path.join(dir, 'bundle.pem'), '-pubout']);
    expect(fromKey).toBe(fromCert);
  });

  it('refuses a certificate or a key that is not PEM, naming the variable and what it wants', () => {
    const badCert = apply({ [names.certificate]: 'MIIB...not pem', [names.privateKey]: key });
    expect(badCert.ok).toBe(false);
    expect(badCert.error).toContain('edge_fab_tls_certificate_pem must be PEM that starts with -----BEGIN CERTIFICATE-----');
    const swapped = apply({ [names.certificate]: certificate, [names.privateKey]: certificate });
    expect(swapped.ok).toBe(false);
    expect(swapped.error).toContain('edge_fab_tls_private_key_pem must be PEM that starts with -----BEGIN PRIVATE KEY-----');
  });
});
