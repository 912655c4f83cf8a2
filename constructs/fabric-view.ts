import { IConstruct } from 'constructs';
import { FabricModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/**
 * A fabric as its logical clusters see it (the Fabric construct implements
 * it; the clusters do not import the Fabric, which creates them). A fabric
 * renders when its plan is synthesized, so that a cluster added after its
 * constructor is part of it: the model and the appliances exist from then,
 * and reading either renders the fabric at once.
 */
export interface IFabric extends IConstruct {
  /**
   * The validated model of the whole fabric.
   * @jsii ignore
   */
  readonly model: FabricModel;
  /**
   * The appliances of these names, in this order.
   * @jsii ignore
   */
  appliancesNamed(names: readonly string[]): Appliance[];
}
