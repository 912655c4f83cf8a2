import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { FabricModel, NodeModel, PlatformTraits } from '../../model/fabric-model';
import { LockedImage } from '../../model/identity';

/** What a platform needs to create one appliance's VM. */
export interface ApplianceMachineSpec {
  /** Scope to create the VM in (the Appliance construct). */
  readonly scope: Construct;
  readonly node: NodeModel;
  /** Terraform strings (escaped, secrets as references). */
  readonly userData: string;
  readonly metaData: string;
  readonly networkConfig: string;
  /** Meta-data with the network-config embedded and the keys to clear after reading, for the VMware guestinfo datasource. */
  readonly metaDataWithNetwork: string;
  /**
   * Address (`terraform_data.<name>`) of the appliance's replacement marker:
   * every resource of its VM (disks, cloud-init, the VM) lists it in
   * `lifecycle.replaceTriggeredBy`, so `terraform apply -replace=<it>`
   * replaces the whole VM, which boots with the current configuration.
   */
  readonly replacementMarker: string;
}

/** The VM a platform created for one appliance. */
export interface ApplianceMachine {
  /** Terraform id expression of the VM. */
  readonly id: string;
  /** The VM resource. */
  readonly resource: TerraformResource;
}

/**
 * A hypervisor. A new one is a new folder under `platforms/` implementing
 * this; the fabric and the renderers do not change.
 *
 * Its members take the derived model, which only TypeScript sees: other
 * languages pass one of the library's platforms (VspherePlatform,
 * LibvirtPlatform) and cannot implement a platform of their own.
 */
export interface IFabricPlatform {
  /**
   * What the model and renderers need to know (watchdog driver, MAC range).
   * @jsii ignore
   */
  readonly traits: PlatformTraits;
  /**
   * Checks platform-specific props against the model (placement, hosts)
   * before anything is created; throws FabricValidationError.
   * @jsii ignore
   */
  validate(model: FabricModel): void;
  /**
   * Which host each appliance runs on, where the platform decides it (KVM); undefined where it does not (vSphere DRS).
   * @jsii ignore
   */
  placement?(model: FabricModel): Map<string, string>;
  /**
   * Creates the shared resources and one VM per appliance; returns each
   * appliance's VM. The VM takes its cloud-init only when it is created:
   * later changes of the cloud-init inputs must be in the VM resources'
   * `lifecycle.ignoreChanges` (they reach running nodes as bundles).
   * @jsii ignore
   */
  deploy(scope: Construct, model: FabricModel, machines: ApplianceMachineSpec[]): Map<string, ApplianceMachine>;
  /**
   * The image an appliance's VM is created from, resolved (its own `image`,
   * else the platform's), as the lock file records it. A platform without it
   * records no image, and no pair is checked for an image change.
   * @jsii ignore
   */
  imageOf?(model: FabricModel, node: NodeModel): LockedImage;
  /**
   * After `deploy`: the resources that make up an appliance's VM, created in
   * `scope` (its Appliance construct), that `terraform apply -replace=`
   * must name to rebuild the node from scratch. The error of an identity
   * change gives their addresses.
   * @jsii ignore
   */
  vmResourcesOf?(scope: Construct): TerraformResource[];
}

/**
 * The former name of IFabricPlatform (jsii names an interface with behaviour `I...`).
 * @deprecated use IFabricPlatform
 */
export type FabricPlatform = IFabricPlatform;
