import { ApplicationServerClusterModel } from '../model/fabric-model';
import { ApplicationServerSpec } from '../model/fabric-spec';
import { FabricCluster } from './fabric-cluster';
import { IFabric } from './fabric-view';

/** The application-server cluster's props; each key's default is on ApplicationServerSpec. */
export interface ApplicationServerClusterProps extends ApplicationServerSpec {}

/**
 * The application-server cluster: every member serves the application,
 * active/active behind HAProxy. Every fabric has one, from its
 * `applicationServers` prop.
 */
export class ApplicationServerCluster extends FabricCluster {
  constructor(
    fabric: IFabric,
    id: string,
    readonly props: ApplicationServerClusterProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): ApplicationServerClusterModel {
    return this.fabric.model.applicationServers;
  }
  /** @jsii ignore */
  protected get memberNames(): readonly string[] {
    return this.model.members;
  }
  get serviceName(): string {
    return this.model.service.name;
  }
  get port(): number {
    return this.model.service.port;
  }
}
