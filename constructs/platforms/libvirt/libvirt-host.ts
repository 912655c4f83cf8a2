import { Construct } from 'constructs';
import { CloudinitDisk } from '../../../.gen/providers/libvirt/cloudinit-disk';
import { Domain, DomainNetworkInterface } from '../../../.gen/providers/libvirt/domain';
import { Network } from '../../../.gen/providers/libvirt/network';
import { Pool } from '../../../.gen/providers/libvirt/pool';
import { LibvirtProvider } from '../../../.gen/providers/libvirt/provider';
import { Volume, VolumeConfig } from '../../../.gen/providers/libvirt/volume';
import { canonicalJson } from '../../../model/identity';
import { shortDigest } from '../../../model/identifiers';
import { ApplianceMachineSpec } from '../platform';
import { applianceBaseImageOf, hostBaseImageOf, poolNameOf, ResolvedBaseImage } from './base-images';
import { DEFAULT_NETWORK_AUTOSTART, DEFAULT_STORAGE_POOL, KvmHostProps } from './kvm-host';
import { VerifiedImages } from './verified-images';
import { WATCHDOG_XSLT } from './watchdog-xslt';

const GIB = 1024 ** 3;

/** Construct ids of an appliance's VM resources, in its Appliance construct. */
export const APPLIANCE_RESOURCE_IDS = { disk: 'disk', cloudInit: 'cloudinit', domain: 'domain' } as const;

type BaseVolume = Pick<VolumeConfig, 'baseVolumeId' | 'baseVolumeName' | 'baseVolumePool'>;

export interface LibvirtHostProps {
  /** The host, as validated by `checkKvmHosts`. */
  readonly host: KvmHostProps;
  /** Fabric name: prefixes every volume and domain, so two fabrics can share a host. */
  readonly fabricName: string;
  /** Management network in CIDR notation; a routed libvirt network serves it. */
  readonly managementCidr: string;
  /** The platform's checked images, shared by every host (one download per image). */
  readonly images: VerifiedImages;
}

/**
 * One KVM host: its libvirt provider configuration (aliased by the host
 * name), storage pool, base images (the host's own, and one volume per other
 * image its appliances name) and network attachment, and the appliances
 * added to it with `addAppliance`.
 */
export class LibvirtHost extends Construct {
  readonly hostName: string;
  readonly provider: LibvirtProvider;
  /** Name of the storage pool (a reference when the pool is created here, so volumes wait for it). */
  readonly poolName: string;
  private readonly fabricName: string;
  private readonly host: KvmHostProps;
  private readonly images: VerifiedImages;
  /** Each base image in use on this host, by its canonical JSON. */
  private readonly baseVolumes = new Map<string, BaseVolume>();
  private readonly attachment: Pick<DomainNetworkInterface, 'bridge' | 'networkName' | 'networkId'>;
  private readonly deviceAttachment?: Pick<DomainNetworkInterface, 'bridge' | 'networkName'>;

  constructor(scope: Construct, id: string, props: LibvirtHostProps) {
    super(scope, id);
    const host = props.host;
    this.hostName = host.name;
    this.fabricName = props.fabricName;
    this.provider = new LibvirtProvider(this, 'provider', { uri: host.uri, alias: host.name });
    const provider = this.provider;

    const pool = host.storagePool ?? DEFAULT_STORAGE_POOL;
    this.poolName = pool.create
      ? new Pool(this, 'pool', { provider, name: pool.name, type: 'dir', target: { path: pool.create.path } }).name
      : pool.name;

    this.host = host;
    this.images = props.images;
    this.baseVolumeOf(hostBaseImageOf(host, props.fabricName), 'base_image');

    const device = host.deviceNetwork;
    if (device) this.deviceAttachment = 'bridge' in device ? { bridge: device.bridge } : { networkName: device.libvirtNetwork };

    const network = host.network;
    if ('bridge' in network) {
      this.attachment = { bridge: network.bridge };
    } else if ('libvirtNetwork' in network) {
      this.attachment = { networkName: network.libvirtNetwork };
    } else {
      const spec = network.create;
      const routed = spec.mode === 'route';
      const created = new Network(this, 'network', {
        provider,
        name: spec.name,
        mode: spec.mode,
        bridge: spec.bridge,
        mtu: spec.mtu,
        autostart: spec.autostart ?? DEFAULT_NETWORK_AUTOSTART,
        // Routed: libvirt puts the first address (the fabric's gateway) on its bridge. The nodes have static addresses: no DHCP.
        ...(routed ? { addresses: [props.managementCidr], dhcp: { enabled: false } } : {}),
      });
      this.attachment = { networkId: created.id };
    }
  }

  /** Creates the appliance's system disk, cloud-init ISO and VM on this host; returns the VM. */
  addAppliance(machine: ApplianceMachineSpec): Domain {
    const { scope, node } = machine;
    const provider = this.provider;
    const name = `${this.fabricName}-${node.name}`;
    const disk = new Volume(scope, APPLIANCE_RESOURCE_IDS.disk, {
      provider,
      name: `${name}.qcow2`,
      pool: this.poolName,
      format: 'qcow2',
      size: node.sizing.diskGiB * GIB,
      ...this.baseVolumeOf(applianceBaseImageOf(this.host, this.fabricName, node.image)),
      lifecycle: { replaceTriggeredBy: [machine.replacementMarker] },
    });
    const seed = new CloudinitDisk(scope, APPLIANCE_RESOURCE_IDS.cloudInit, {
      provider,
      name: `${name}-cloudinit.iso`,
      pool: this.poolName,
      userData: machine.userData,
      metaData: machine.metaData,
      networkConfig: machine.networkConfig,
      // Every field is ForceNew in 0.8.3 and cloud-init reads the ISO once per instance: a replaced ISO
      // would reach no running node. Later changes arrive as configuration bundles instead.
      lifecycle: { ignoreChanges: ['user_data', 'meta_data', 'network_config'], replaceTriggeredBy: [machine.replacementMarker] },
    });
    return new Domain(scope, APPLIANCE_RESOURCE_IDS.domain, {
      provider,
      name,
      description: `Appliance ${node.name} (${node.roles.join(', ')}) of fabric ${this.fabricName}, managed by appliance-fabric`,
      vcpu: node.sizing.vcpus,
      memory: node.sizing.memoryMiB,
      disk: [{ volumeId: disk.id }],
      cloudinit: seed.id,
      networkInterface: [
        {
          ...this.attachment,
          // The MAC the network-config matches to name the NIC eth0.
          mac: node.managementMac,
          // Addresses are static (cloud-init); there is no DHCP lease to wait for.
          waitForLease: false,
        },
        ...(this.deviceAttachment && node.deviceMac ? [{ ...this.deviceAttachment, mac: node.deviceMac, waitForLease: false }] : []),
      ],
      console: [{ type: 'pty', targetPort: '0', targetType: 'serial' }],
      qemuAgent: true,
      autostart: true,
      running: true,
      xml: { xslt: WATCHDOG_XSLT },
      lifecycle: { replaceTriggeredBy: [machine.replacementMarker] },
    });
  }

  /** The overlay's base for an image: the volume uploaded for it (once per host) or the existing one. */
  private baseVolumeOf(image: ResolvedBaseImage, id = `base_image_${shortDigest(canonicalJson(image))}`): BaseVolume {
    const key = canonicalJson(image);
    if (!this.baseVolumes.has(key)) {
      if ('source' in image) {
        // With a sha256, the checked copy on the machine that runs Terraform, once it is in place.
        const { source, dependsOn } = this.images.sourceOf(image);
        const base = new Volume(this, id, { provider: this.provider, name: image.name, pool: this.poolName, source, format: 'qcow2', dependsOn });
        this.baseVolumes.set(key, { baseVolumeId: base.id });
      } else {
        // The host's own pool by reference, so that a pool created here exists first.
        this.baseVolumes.set(key, { baseVolumeName: image.volumeName, baseVolumePool: image.pool === poolNameOf(this.host) ? this.poolName : image.pool });
      }
    }
    return this.baseVolumes.get(key)!;
  }
}
