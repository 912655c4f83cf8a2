import { ImageFromVolume, ImageSourceSpec } from '../../../model/fabric-spec';

/**
 * What an operator writes about the KVM hosts a fabric runs on: plain data,
 * checked by `checkKvmHosts` before anything is created.
 */

/** Where a host keeps the appliances' disks and cloud-init ISOs. */
export interface KvmStoragePoolProps {
  /** Name of the libvirt storage pool. Without `create` it must already exist on the host (`virsh pool-list --all`). */
  readonly name: string;
  /**
   * Create the pool as a directory pool (`type dir`) at this absolute path
   * on the host, instead of using an existing one.
   * @default - none (use the existing pool `name`)
   */
  readonly create?: KvmStoragePoolCreateProps;
}

/** A directory pool the platform creates. */
export interface KvmStoragePoolCreateProps {
  /** Absolute directory on the host. */
  readonly path: string;
}

/** @defaultOf KvmHostProps.storagePool */
export const DEFAULT_STORAGE_POOL: KvmStoragePoolProps = { name: 'default' };
/** @defaultOf KvmLibvirtNetworkProps.autostart */
export const DEFAULT_NETWORK_AUTOSTART = true;

/** The base image is uploaded into the host's pool by Terraform. */
export interface KvmBaseImageFromSource extends ImageSourceSpec {
  /** Name of the base volume created from it in the host's pool. @default - `<fabric name>-base.qcow2` */
  readonly name?: string;
}

/** The base image is a volume that already exists on the host. */
export interface KvmBaseImageFromVolume extends ImageFromVolume {}

/**
 * The image the system disks of the host's appliances are copy-on-write
 * overlays of, unless an appliance names its own `image`. Give exactly one
 * of `source` (upload an image) or `volumeName` (use a volume the host
 * already has).
 */
export type KvmBaseImageProps = KvmBaseImageFromSource | KvmBaseImageFromVolume;

/** A libvirt network the platform creates on the host. */
export interface KvmLibvirtNetworkProps {
  /** Name of the libvirt network. */
  readonly name: string;
  /**
   * `bridge`: the network is a name for an existing host bridge that is
   * connected to the management LAN, so appliances on different hosts share
   * one L2 segment (what VRRP needs). `route`: libvirt makes a bridge of its
   * own with the fabric's gateway address on it and routes the management
   * network to the host's uplink; that is one segment per host, so it only
   * suits a fabric on a single host.
   */
  readonly mode: 'bridge' | 'route';
  /** Host bridge: required for `bridge`; for `route` the name of the bridge libvirt creates. @default - for `route`, chosen by libvirt (virbrN) */
  readonly bridge?: string;
  /** MTU of the network. @default - the bridge's MTU */
  readonly mtu?: number;
  /** Start the network when the host boots. @default true */
  readonly autostart?: boolean;
}

/** Attach to an existing host bridge. */
export interface KvmBridgeAttachment {
  /** The host bridge, e.g. `br0`. */
  readonly bridge: string;
}

/** Attach to an existing libvirt network. */
export interface KvmLibvirtNetworkAttachment {
  /** The libvirt network's name (`virsh net-list --all`). */
  readonly libvirtNetwork: string;
}

/** Attach to a libvirt network the platform creates. */
export interface KvmCreatedNetworkAttachment {
  /** The network to create. */
  readonly create: KvmLibvirtNetworkProps;
}

/**
 * How appliances on a host reach the management network. Give exactly one of
 * `bridge`, `libvirtNetwork` or `create`.
 */
export type KvmHostNetworkProps = KvmBridgeAttachment | KvmLibvirtNetworkAttachment | KvmCreatedNetworkAttachment;

/** How appliances on a host reach the device-management network: exactly one of `bridge` or `libvirtNetwork`. */
export type KvmDeviceNetworkProps = KvmBridgeAttachment | KvmLibvirtNetworkAttachment;

/** One KVM host. Each is its own libvirt provider configuration, aliased by the host name. */
export interface KvmHostProps {
  /** Host name: a DNS label. Names the provider alias and is what `appliances[].host` refers to. */
  readonly name: string;
  /**
   * libvirt connection URI, e.g. `qemu:///system` (local) or
   * `qemu+ssh://root@kvm1.example.net/system` (the provider's SSH client
   * needs the host in known_hosts; add `?keyfile=...` for a key other than
   * the agent's).
   */
  readonly uri: string;
  /** Storage pool for the appliances' disks. @default { name: 'default' } */
  readonly storagePool?: KvmStoragePoolProps;
  /** The base image of the appliances' system disks. */
  readonly baseImage: KvmBaseImageProps;
  /** The management network attachment. */
  readonly network: KvmHostNetworkProps;
  /** The device-management network attachment (eth3); required when the fabric has a device network. @default - none */
  readonly deviceNetwork?: KvmDeviceNetworkProps;
}
