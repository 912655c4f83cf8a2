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
}

/**
 * One appliance (node) of the fabric: its model, its rendered user-data and,
 * once the platform has realized it, the VM.
 */
export class Appliance extends Construct {
  readonly model: NodeModel;
  /** Rendered cloud-init documents (secrets as placeholders): for tests and inspection. */
  readonly cloudInit: NodeCloudInit;
  /** The user-data as a Terraform local, so the plan shows it once, readable, per node. */
  readonly userDataLocal: TerraformLocal;
  /** Terraform id of the VM that realizes this appliance, set by the platform. */
  machineId?: string;

  constructor(scope: Construct, id: string, props: ApplianceProps) {
    super(scope, id);
    this.model = props.node;
    this.cloudInit = props.cloudInit;
    this.userDataLocal = new TerraformLocal(this, 'user_data', props.terraformUserData);
  }

  get name(): string {
    return this.model.name;
  }
  get managementAddress(): string {
    return this.model.managementAddress;
  }
  get roles(): readonly string[] {
    return this.model.roles;
  }
}
