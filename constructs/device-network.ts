import { Construct } from 'constructs';
import { DeviceNetworkModel } from '../model/fabric-model';
import { DeviceNetworkSpec } from '../model/fabric-spec';
import { IFabric } from './fabric-view';

/** The device network's props: `cidr` is required; each other key's default is on DeviceNetworkSpec. */
export interface DeviceNetworkProps extends DeviceNetworkSpec {}

/**
 * The device-management network: a second NIC (eth3) on every appliance,
 * with an optional VIP on the load-balancer pair through which devices reach
 * the application servers on `tcpPorts`. Created by
 * `Fabric.addDeviceNetwork` (or the fabric's `deviceNetwork` prop).
 */
export class DeviceNetwork extends Construct {
  constructor(
    private readonly fabric: IFabric,
    id: string,
    readonly props: DeviceNetworkProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): DeviceNetworkModel {
    return this.fabric.model.deviceNetwork!;
  }
  /** The device VIP, when the network has one. */
  get vip(): string | undefined {
    return this.model.vrrp?.vip;
  }
  /** The TCP ports devices connect to on the VIP. */
  get tcpPorts(): number[] {
    return [...this.model.tcpPorts];
  }
}
