import * as path from 'node:path';
import { AnnotationMetadataEntryType, App } from 'cdktf';
import { FabricValidationError } from '../model/errors';
import { ExampleStackOptions } from './example-stack-options';
import { KvmFabricConfig, KvmFabricStack } from './kvm-fabric-stack';
import { PROJECT_ROOT } from './project-root';
import { readStackConfig } from './stack-config';
import { VsphereFabricConfig, VsphereFabricStack } from './vsphere-fabric-stack';

export { PROJECT_ROOT };
export const CONFIG_DIR = path.join(PROJECT_ROOT, 'stacks', 'config');

/** Builds every example stack into `app` and returns them; they share one lock file (the project's, unless `options` names another). */
export function buildExampleStacks(app: App, configDir = CONFIG_DIR, options: ExampleStackOptions = {}): (VsphereFabricStack | KvmFabricStack)[] {
  return [
    new VsphereFabricStack(app, 'vsphere-fabric', readStackConfig<VsphereFabricConfig>(path.join(configDir, 'vsphere-fabric.yaml'), 'vsphere'), options),
    new KvmFabricStack(app, 'kvm-fabric', readStackConfig<KvmFabricConfig>(path.join(configDir, 'kvm-fabric.yaml'), 'libvirt'), options),
    new KvmFabricStack(app, 'kvm-fabric-full', readStackConfig<KvmFabricConfig>(path.join(configDir, 'kvm-fabric-full.yaml'), 'libvirt'), options),
  ];
}

/**
 * The main job: synthesizes every example stack into `cdktf.out/` (or
 * CDKTF_OUTDIR, which cdktf-cli sets), and updates the project's lock file.
 * A configuration error, an identity change among them, is printed as the
 * list of problems and exits 1, with the lock file untouched.
 */
export function synthesizeExamples(): void {
  try {
    const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? path.join(PROJECT_ROOT, 'cdktf.out') });
    // A fabric renders (and validates) at synth, and cdktf writes each stack as it goes: rendering
    // every fabric first keeps a config error in one stack from writing the plans of the others.
    for (const stack of buildExampleStacks(app)) void stack.fabric.model;
    app.synth();
    // cdktf-cli prints these from the manifest; this entry point prints them itself.
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) if (entry.type === AnnotationMetadataEntryType.WARN) console.warn(`warning: ${entry.data}`);
    }
  } catch (err) {
    if (err instanceof FabricValidationError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

if (require.main === module) synthesizeExamples();
