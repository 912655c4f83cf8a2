import { VsphereProvider, VsphereProviderConfig } from '@cdktf/provider-vsphere/lib/provider';
import { LocalBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Fabric } from '../constructs/fabric';
import { VspherePlatform, VspherePlatformProps } from '../constructs/platforms/vsphere/vsphere-platform';
import { FabricSpec } from '../model/fabric-spec';
import { ExampleStackOptions, exampleLockFile } from './example-stack-options';

/** A vSphere stack config (stacks/config/vsphere-fabric.yaml): the fabric and where it runs. */
export interface VsphereFabricConfig {
  /** The fabric. */
  readonly fabric: FabricSpec;
  /** The vSphere platform and the provider's connection. */
  readonly vsphere: VsphereStackProps;
}

/** The vSphere platform's props plus what the stack's provider takes. */
export interface VsphereStackProps extends VspherePlatformProps {
  /** Accept a vCenter certificate that does not verify: only for a lab vCenter with a self-signed certificate. @default - the provider's (false) */
  readonly allowUnverifiedSsl?: boolean;
}

/** A deployable stack: one fabric on vSphere. */
export class VsphereFabricStack extends TerraformStack {
  readonly fabric: Fabric;

  constructor(scope: Construct, id: string, config: VsphereFabricConfig, options: ExampleStackOptions = {}) {
    super(scope, id);
    // A relative path keeps the synthesized JSON identical on every machine.
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    // The binding marks user and password required, but the provider reads
    // VSPHERE_USER and VSPHERE_PASSWORD (and VSPHERE_SERVER) when they are
    // absent: credentials stay out of the plan.
    const fromEnvironment = {} as Pick<VsphereProviderConfig, 'user' | 'password'>;
    const { allowUnverifiedSsl, ...platform } = config.vsphere;
    new VsphereProvider(this, 'vsphere', { ...fromEnvironment, allowUnverifiedSsl });
    this.fabric = new Fabric(this, 'Fabric', { ...config.fabric, platform: new VspherePlatform(platform), lockFile: exampleLockFile(options) });
  }
}
