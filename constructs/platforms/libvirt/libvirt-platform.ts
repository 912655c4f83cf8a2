import { TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { ProblemCollector } from '../../../model/errors';
import { FabricModel, NodeModel, PlatformTraits } from '../../../model/fabric-model';
import { LockedImage } from '../../../model/identity';
import { ApplianceMachine, ApplianceMachineSpec, IFabricPlatform } from '../platform';
import { applianceBaseImageOf } from './base-images';
import { checkApplianceImages, checkImageCache, checkKvmHosts } from './host-checks';
import { KvmHostProps } from './kvm-host';
import { APPLIANCE_RESOURCE_IDS, LibvirtHost } from './libvirt-host';
import { placeAppliances, separatedGroupsOf } from './placement';
import { DEFAULT_IMAGE_CACHE_DIRECTORY, VERIFIED_IMAGES_ID, VerifiedImages } from './verified-images';
import { WATCHDOG_MODEL } from './watchdog-xslt';
import { terraformLiterals } from '../../terraform-strings';

export interface LibvirtPlatformProps {
  /**
   * The KVM hosts, one libvirt connection each. With two or more, the
   * members of each HA pair (today the load-balancer pair) go to different
   * hosts; one host is allowed (a lab), with no protection from a host
   * failure. An appliance goes where its `host` says, or is assigned.
   */
  readonly hosts: KvmHostProps[];
  /**
   * Directory on the machine that runs Terraform where each image with a
   * `sha256` is downloaded (or copied) and checked before libvirt reads it,
   * one file per checksum (`<sha256>.qcow2`); a relative path starts at the
   * directory terraform runs in (`cdktf.out/stacks/<stack>`). A checked file
   * is kept and not fetched again; remove the ones no image names any more
   * by hand. Changing it changes every checked image's source, which replaces
   * its base volumes and the VMs on them.
   * @default '.image-cache'
   */
  readonly imageCacheDirectory?: string;
}

/**
 * KVM through libvirt (provider dmacvicar/libvirt 0.8.3): on its host, each
 * appliance is a copy-on-write overlay of a base image, a NoCloud cloud-init
 * ISO and a domain with a fixed MAC, a serial console and an i6300esb
 * watchdog. libvirt has no DRS, so placement on hosts is decided at synth
 * time and checked to keep HA pairs apart.
 */
export class LibvirtPlatform implements IFabricPlatform {
  /** @jsii ignore */
  readonly traits: PlatformTraits = {
    kind: 'libvirt',
    watchdogModule: WATCHDOG_MODEL,
    // QEMU/KVM's locally administered range.
    macPrefix: '52:54:00',
  };

  private readonly props: LibvirtPlatformProps;

  /** Every string prop becomes a Terraform literal here, once (see terraformLiterals). */
  constructor(props: LibvirtPlatformProps) {
    this.props = terraformLiterals(props);
  }

  /** @jsii ignore */
  validate(model: FabricModel): void {
    const problems = new ProblemCollector(model.constructPath);
    checkKvmHosts(this.props?.hosts, model, problems);
    checkImageCache(this.props?.imageCacheDirectory, problems);
    const placement = this.place(model, problems);
    if (problems.count === 0) checkApplianceImages(this.props.hosts, model, placement, problems);
    problems.throwIfAny();
  }

  /** @jsii ignore */
  deploy(scope: Construct, model: FabricModel, machines: ApplianceMachineSpec[]): Map<string, ApplianceMachine> {
    // Placement is a pure function of the model and the host list: the same here as in validate().
    const problems = new ProblemCollector(model.constructPath);
    const placement = this.place(model, problems);
    problems.throwIfAny();

    const site = new Construct(scope, 'libvirt');
    const images = new VerifiedImages(site, VERIFIED_IMAGES_ID, { cacheDirectory: this.props.imageCacheDirectory ?? DEFAULT_IMAGE_CACHE_DIRECTORY });
    const hosts = new Map(
      this.props.hosts.map((host) => [host.name, new LibvirtHost(site, host.name, { host, fabricName: model.name, managementCidr: model.network.cidr, images })]),
    );
    const vms = new Map<string, ApplianceMachine>();
    for (const machine of machines) {
      const host = hosts.get(placement.get(machine.node.name)!)!;
      const domain = host.addAppliance(machine);
      vms.set(machine.node.name, { id: domain.id, resource: domain });
    }
    return vms;
  }

  /** @jsii ignore */
  imageOf(model: FabricModel, node: NodeModel): LockedImage {
    const host = this.props.hosts.find((h) => h.name === node.host)!;
    return applianceBaseImageOf(host, model.name, node.image);
  }

  /** @jsii ignore */
  vmResourcesOf(scope: Construct): TerraformResource[] {
    return [APPLIANCE_RESOURCE_IDS.disk, APPLIANCE_RESOURCE_IDS.cloudInit, APPLIANCE_RESOURCE_IDS.domain]
      .map((id) => scope.node.tryFindChild(id))
      .filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c));
  }

  /**
   * Which host each appliance runs on, by appliance name.
   * @jsii ignore
   */
  placement(model: FabricModel): Map<string, string> {
    const problems = new ProblemCollector(model.constructPath);
    const placement = this.place(model, problems);
    problems.throwIfAny();
    return placement;
  }

  private place(model: FabricModel, problems: ProblemCollector): Map<string, string> {
    const hostNames = Array.isArray(this.props?.hosts) ? this.props.hosts.map((h) => h?.name).filter((n): n is string => typeof n === 'string') : [];
    return placeAppliances(model.nodes, [...new Set(hostNames)], separatedGroupsOf(model), problems);
  }
}
