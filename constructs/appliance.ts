import { TerraformLocal } from 'cdktf';
import { Construct } from 'constructs';
import { NodeCloudInit } from '../cloud-init/cloud-config';
import { NodeModel } from '../model/fabric-model';

export interface ApplianceProps {
  /** The node, from the fabric model. */
  readonly node: NodeModel;
  /** Its rendered cloud-init, with Terraform-escaped strings. */
  readonly cloudInit: NodeCloudInit;
  /** The same user-data as a Terraform string (escaped, secrets as references). */
  readonly terraformUserData: string;
  /**
   * The Terraform id of its VM. A function: the platform creates the VM
   * inside this construct, so after it.
   * @default - no VM
   */
  readonly machineId?: () => string | undefined;
}

/**
 * One appliance (node) of the fabric: its model, its rendered user-data and,
 * once the platform has realized it, the VM.
 */
export class Appliance extends Construct {
  /**
   * Its part of the fabric's model (TypeScript only, like the model).
   * @jsii ignore
   */
  readonly model: NodeModel;
  /**
   * Rendered cloud-init documents (secrets as placeholders): for tests and inspection (TypeScript only).
   * @jsii ignore
   */
  readonly cloudInit: NodeCloudInit;
  /** The user-data as a Terraform local, so the plan shows it once, readable, per node. */
  readonly userDataLocal: TerraformLocal;
  private readonly resolveMachineId?: () => string | undefined;

  /**
   * Only a fabric creates its appliances (their props are the model's, which
   * is not part of the jsii API).
   * @internal
   */
  static _create(scope: Construct, id: string, props: ApplianceProps): Appliance {
    return new Appliance(scope, id, props);
  }

  private constructor(scope: Construct, id: string, props: ApplianceProps) {
    super(scope, id);
    this.model = props.node;
    this.cloudInit = props.cloudInit;
    this.userDataLocal = new TerraformLocal(this, 'user_data', props.terraformUserData);
    this.resolveMachineId = props.machineId;
  }

  /** Terraform id of the VM that realizes this appliance, once the platform has created it. */
  get machineId(): string | undefined {
    return this.resolveMachineId?.();
  }

  get name(): string {
    return this.model.name;
  }
  get managementAddress(): string {
    return this.model.managementAddress;
  }
  get roles(): string[] {
    return [...this.model.roles];
  }
}
