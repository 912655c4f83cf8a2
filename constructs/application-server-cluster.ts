import { Construct } from 'constructs';
import { ApplicationServerClusterModel } from '../model/fabric-model';
import { ApplicationServerSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { IFabric } from './fabric-view';

/** The application-server cluster's props; each key's default is on ApplicationServerSpec. */
export interface ApplicationServerClusterProps extends ApplicationServerSpec {}

/**
 * The application-server cluster: every member serves the application,
 * active/active behind HAProxy. Every fabric has one, from its
 * `applicationServers` prop.
 */
export class ApplicationServerCluster extends Construct {
  constructor(
    private readonly fabric: IFabric,
    id: string,
    readonly props: ApplicationServerClusterProps,
  ) {
    super(fabric, id);
  }
  /** Its part of the fabric model; reading it renders the fabric. */
  get model(): ApplicationServerClusterModel {
    return this.fabric.model.applicationServers;
  }
  get members(): Appliance[] {
    return this.fabric.appliancesNamed(this.model.members);
  }
  get serviceName(): string {
    return this.model.service.name;
  }
  get port(): number {
    return this.model.service.port;
  }
}
