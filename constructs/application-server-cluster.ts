import { Construct } from 'constructs';
import { ApplicationServerClusterModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/** The application-server cluster: every member serves the application, active/active behind HAProxy. */
export class ApplicationServerCluster extends Construct {
  constructor(scope: Construct, id: string, readonly model: ApplicationServerClusterModel, readonly members: Appliance[]) {
    super(scope, id);
  }
  get serviceName(): string {
    return this.model.service.name;
  }
  get port(): number {
    return this.model.service.port;
  }
}
