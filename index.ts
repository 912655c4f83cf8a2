// Public API of appliance-fabric, compiled by jsii (`npm run jsii`). What
// only TypeScript can express (the derived model, the platforms' hooks, the
// rendered cloud-init) is marked `@jsii ignore`: TypeScript users keep it,
// other languages do not see it. The renderers, the model builder and the
// delivery construct are internal and not exported.
export * from './model/fabric-spec';
export type { ValidationProblem } from './model/errors';
// An Error subclass, which jsii cannot express: TypeScript and JavaScript
// users get the class (for `instanceof` and its `problems`) under an alias,
// which jsii leaves out; other languages get the thrown error's message.
import { FabricValidationError as FabricValidationErrorClass } from './model/errors';
export const FabricValidationError = FabricValidationErrorClass;
export type FabricValidationError = FabricValidationErrorClass;
export * from './model/defaults';
export { LOCK_FORMAT_VERSION } from './model/identity';
export type { FabricLock, LockedFabric, LockedImage, LockedNode, NodeIdentity } from './model/identity';
export * from './constructs/fabric';
export { DEFAULT_LOCK_FILE, readFabricLock } from './constructs/fabric-lock';
export { Appliance } from './constructs/appliance';
export * from './constructs/fabric-cluster';
export * from './constructs/load-balancer-cluster';
export * from './constructs/application-server-cluster';
export * from './constructs/database-cluster';
export * from './constructs/cassandra-cluster';
export * from './constructs/monitoring-cluster';
export * from './constructs/device-network';
export type { IFabric } from './constructs/fabric-view';
export type { FabricPlatform, IFabricPlatform } from './constructs/platforms/platform';
export * from './constructs/platforms/vsphere/vsphere-platform';
export * from './constructs/platforms/libvirt/libvirt-platform';
export * from './constructs/platforms/libvirt/kvm-host';
