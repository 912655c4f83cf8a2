import { Construct } from 'constructs';
import { Appliance } from './appliance';
import { IFabric } from './fabric-view';

/**
 * A logical cluster of a fabric: a construct under the fabric whose members
 * are appliances of it. Its part of the model exists once the fabric has
 * rendered; reading it (or the members) renders the fabric.
 */
export abstract class FabricCluster extends Construct {
  constructor(protected readonly fabric: IFabric, id: string) {
    super(fabric, id);
  }

  /**
   * The names of its members, in the model's order.
   * @jsii ignore
   */
  protected abstract get memberNames(): readonly string[];

  get members(): Appliance[] {
    return this.fabric.appliancesNamed(this.memberNames);
  }
}
