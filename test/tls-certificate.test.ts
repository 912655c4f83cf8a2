// loadBalancer.tlsCertificate: the generated self-signed certificate, or the
// operator's own from sensitive Terraform variables. Terraform itself
// evaluates the variables' checks in test/tools/tls-certificate-terraform.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { buildFabricModel } from '../model/build-model';
import { KvmFabricConfig, KvmFabricStack } from '../stacks/kvm-fabric-stack';
import { readStackConfig } from '../stacks/stack-config';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';
import { Plan } from './synth-helpers';

const CONFIG = path.resolve(__dirname, '../stacks/config/kvm-fabric.yaml');

function synthKvm(tlsCertificate: 'generated' | 'terraform-variables'): Plan {
  const outdir = mkdtempSync(path.join(tmpdir(), 'aftls-'));
  try {
    const app = new App({ outdir });
    const config = readStackConfig<KvmFabricConfig>(CONFIG, 'libvirt');
    new KvmFabricStack(app, 'kvm-fabric', { ...config, fabric: { ...config.fabric, loadBalancer: { ...config.fabric.loadBalancer, tlsCertificate } } }, { lockFile: path.join(outdir, 'lock.json') });
    app.synth();
    return JSON.parse(readFileSync(path.join(outdir, 'stacks', 'kvm-fabric', 'cdk.tf.json'), 'utf8'));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe('loadBalancer.tlsCertificate', () => {
  it('generates a self-signed certificate by default, and declares no certificate variable', () => {
    const plan = synthKvm('generated');
    expect(Object.keys(plan.resource.tls_self_signed_cert ?? {})).toHaveLength(1);
    expect(Object.keys(plan.variable ?? {}).filter((v) => v.includes('tls_'))).toEqual([]);
  });

  it('with terraform-variables, takes the certificate and key from two sensitive, validated variables and generates none', () => {
    const plan = synthKvm('terraform-variables');
    expect(plan.resource.tls_self_signed_cert).toBeUndefined();
    // The SSH host keys are still generated; no TLS key is.
    expect(Object.keys(plan.resource.tls_private_key).every((k) => !k.includes('tls_key'))).toBe(true);
    for (const name of ['spacefab_tls_certificate_pem', 'spacefab_tls_private_key_pem']) {
      const v = plan.variable[name];
      expect(v).toMatchObject({ type: 'string', sensitive: true, nullable: false });
      expect(v.validation).toHaveLength(1);
      expect(v.validation[0].condition).toContain(`var.${name}`);
      expect(v.validation[0].error_message).toMatch(new RegExp(`^${name} must be PEM that starts with -----BEGIN`));
    }
    const text = JSON.stringify(plan);
    expect(text).toContain('var.spacefab_tls_certificate_pem');
    expect(text).not.toMatch(/PRIVATE KEY-----\\n[A-Za-z0-9+/]/);
  });

  it('refuses an unknown source with the fix', () => {
    expect(() => buildFabricModel(threeNodeSpec({ loadBalancer: { tlsCertificate: 'acme' as 'generated' } }), TEST_PLATFORM, 'stack/Fabric')).toThrow(
      /loadBalancer\.tlsCertificate: certificate source 'acme' is unknown\. Fix: use 'generated' \(the default, self-signed\) or 'terraform-variables'/,
    );
  });
});
