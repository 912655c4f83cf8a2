// Public API of appliance-fabric.
export * from './model/fabric-spec';
export * from './model/fabric-model';
export * from './model/errors';
export * from './model/defaults';
export { buildFabricModel } from './model/build-model';
export * from './constructs/fabric';
export * from './constructs/appliance';
export * from './constructs/load-balancer-cluster';
export * from './constructs/application-server-cluster';
export * from './constructs/database-cluster';
export * from './constructs/cassandra-cluster';
export * from './constructs/monitoring-cluster';
export * from './constructs/platforms/platform';
export * from './constructs/platforms/vsphere/vsphere-platform';
export * from './constructs/platforms/libvirt/libvirt-platform';
export * from './constructs/platforms/libvirt/kvm-host';
export { renderNodeCloudInit } from './cloud-init/cloud-config';
export type { NodeCloudInit, FabricSecrets } from './cloud-init/cloud-config';
