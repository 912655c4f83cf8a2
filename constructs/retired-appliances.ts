import { TerraformElement, TerraformResource, TerraformStack } from 'cdktf';
import { makeUniqueId } from 'cdktf/lib/private/unique';
import { Construct } from 'constructs';
import { APPLY_BUNDLE_SCRIPT } from '../cloud-init/apply-bundle-agent';
import { ADMIN_USER } from '../cloud-init/cloud-config';
import { ConfigurationDelivery } from '../model/fabric-model';

/** How long a removed node's SSH connection is tried: a node that is already dead must not hold the apply for long. */
const RETIRE_CONNECT_TIMEOUT_SECONDS = 60;
/**
 * How long a removed node waits for the balancers to stop using it: they take
 * their new bundle meanwhile, one after the other. 300 s ran out on the VM tier
 * (TCG), where the standby's delivery took 4 min and the active's 2.6 min more,
 * and the VM went while the active still sent it requests.
 */
export const RETIRE_TIMEOUT_SECONDS = 900;

/** An appliance that the lock file records and the config no longer has. */
export interface RetiredAppliance {
  readonly name: string;
  readonly managementAddress: string;
}

/**
 * The `removed` blocks of appliances that leave the fabric. Terraform would
 * destroy a removed appliance's VM at once, in parallel with the balancers
 * taking their new bundle; here the VM's destroy first runs, on the node,
 * `fabric-apply-bundle --retire`, which returns once no balancer has used the
 * node for a quiet time. So its VM goes only after every balancer has stopped
 * sending it requests and the old HAProxy workers have finished theirs.
 *
 * Terraform allows a destroy-time connection no reference but `self`: the
 * deploy key comes from the SSH agent, and the node's host key (a Terraform
 * resource) cannot be pinned; the command sends no secret, and a failed
 * retire (a node already dead) lets the destroy go on.
 */
export class RetiredAppliances extends TerraformElement {
  private blocks: Record<string, unknown>[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
  }

  /**
   * Adds the `removed` block of each retired appliance's VM. Its address is
   * computed the way cdktf named it when the appliance existed: the address
   * of a present appliance's VM (`template`, in scope `templateAppliance`)
   * with the appliance's id replaced.
   */
  retire(appliances: readonly RetiredAppliance[], template: TerraformResource, templateAppliance: Construct, delivery: ConfigurationDelivery): void {
    const stack = TerraformStack.of(this);
    const below = (c: Construct) => c.node.scopes.slice(c.node.scopes.indexOf(stack) + 1).map((s) => s.node.id);
    const vmPath = below(template);
    const appliancePath = below(templateAppliance);
    if (makeUniqueId(vmPath) !== template.friendlyUniqueId) {
      throw new Error(`internal: cannot derive the address of ${template.node.path} (cdktf names it ${template.friendlyUniqueId})`);
    }
    const bastion = delivery.bastion;
    this.blocks = appliances.map((retired) => ({
      from: `${template.terraformResourceType}.${makeUniqueId([...appliancePath.slice(0, -1), retired.name, ...vmPath.slice(appliancePath.length)])}`,
      lifecycle: { destroy: true },
      connection: {
        type: 'ssh',
        host: retired.managementAddress,
        user: ADMIN_USER,
        timeout: `${RETIRE_CONNECT_TIMEOUT_SECONDS}s`,
        ...(bastion ? { bastion_host: bastion.host, bastion_port: bastion.port, bastion_user: bastion.user, bastion_host_key: bastion.hostKey } : {}),
      },
      provisioner: [
        {
          'remote-exec': {
            when: 'destroy',
            on_failure: 'continue',
            inline: [`sudo ${APPLY_BUNDLE_SCRIPT} --retire ${RETIRE_TIMEOUT_SECONDS}`],
          },
        },
      ],
    }));
  }

  toTerraform(): Record<string, unknown> {
    return this.blocks.length > 0 ? { removed: this.blocks } : {};
  }
}
