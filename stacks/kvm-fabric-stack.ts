import { LocalBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { Fabric } from '../constructs/fabric';
import { LibvirtPlatform, LibvirtPlatformProps } from '../constructs/platforms/libvirt/libvirt-platform';
import { FabricSpec } from '../model/fabric-spec';
import { ExampleStackOptions, exampleLockFile } from './example-stack-options';

/** A KVM stack config (stacks/config/kvm-fabric.yaml): the fabric and the KVM hosts it runs on. */
export interface KvmFabricConfig {
  /** The fabric. */
  readonly fabric: FabricSpec;
  /** The libvirt platform: the KVM hosts. */
  readonly libvirt: LibvirtPlatformProps;
}

/** A deployable stack: one fabric on KVM hosts through libvirt. */
export class KvmFabricStack extends TerraformStack {
  readonly fabric: Fabric;

  constructor(scope: Construct, id: string, config: KvmFabricConfig, options: ExampleStackOptions = {}) {
    super(scope, id);
    // A relative path keeps the synthesized JSON identical on every machine.
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    // The platform declares one libvirt provider per host (aliased by host name): it owns the host list.
    this.fabric = new Fabric(this, 'Fabric', { ...config.fabric, platform: new LibvirtPlatform(config.libvirt), lockFile: exampleLockFile(options) });
  }
}
