// loadBalancer.tlsCertificate: the generated self-signed certificate, or the
// operator's own from sensitive Terraform variables. Terraform itself
// evaluates the variables' checks in test/tools/tls-certificate-terraform.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { buildFabricModel } from '../model/build-model';
import { nodeByName } from '../model/fabric-model';
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
    expect(Object.keys(plan.resource.tls_self_signed_cert ?? {}).filter((k) => k.includes('_tls_certificate_'))).toHaveLength(1);
    expect(Object.keys(plan.variable ?? {}).filter((v) => v.includes('tls_'))).toEqual([]);
  });

  it('with terraform-variables, takes the certificate and key from two sensitive, validated variables and generates none', () => {
    const plan = synthKvm('terraform-variables');
    // Only the database cluster's own CA is self-signed: no balancer certificate is generated.
    expect(Object.keys(plan.resource.tls_self_signed_cert ?? {}).filter((k) => !k.includes('_database_ca_certificate_'))).toEqual([]);
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

describe('the database cluster\'s TLS', () => {
  it('has a CA of its own that signs one server certificate naming both members\' addresses and the database VIP; only those nodes get them', () => {
    const plan = synthKvm('generated');
    const config = readStackConfig<KvmFabricConfig>(CONFIG, 'libvirt');
    const model = buildFabricModel(config.fabric, TEST_PLATFORM, 'kvm-fabric/Fabric');
    const members = model.database!.members;

    const [caId, ca] = Object.entries(plan.resource.tls_self_signed_cert).find(([k]) => k.includes('_database_ca_certificate_'))!;
    expect(ca).toMatchObject({ is_ca_certificate: true, allowed_uses: ['cert_signing', 'crl_signing'] });
    const [requestId, request] = Object.entries(plan.resource.tls_cert_request as Plan).find(([k]) => k.includes('_database_server_request_'))!;
    expect(request.ip_addresses).toEqual([...members.map((m) => nodeByName(model, m).managementAddress), model.database!.vrrp.vip]);
    const signed = Object.values(plan.resource.tls_locally_signed_cert)[0] as Record<string, unknown>;
    expect(signed).toMatchObject({ cert_request_pem: `\${tls_cert_request.${requestId}.cert_request_pem}`, ca_cert_pem: `\${tls_self_signed_cert.${caId}.cert_pem}`, allowed_uses: ['key_encipherment', 'digital_signature', 'server_auth'] });
    // The server's key is one of its own, not the CA's.
    expect(signed.ca_private_key_pem).not.toBe(request.private_key_pem);

    // Each disk's user-data is a local of the plan.
    const userData = Object.values(plan.resource.libvirt_cloudinit_disk as Plan).map((d) => ({ name: String(d.name), text: String(plan.locals[/^\$\{local\.(\w+)\}$/.exec(String(d.user_data))![1]]) }));
    for (const { name, text } of userData) {
      const isMember = members.some((m) => name.endsWith(`-${m}-cloudinit.iso`));
      expect({ name, key: text.includes('_database_server_key_') }).toEqual({ name, key: isMember });
    }
  });
});
