import { Token } from 'cdktf';
import { ApplianceImageSpec, ImageFromSource } from '../../../model/fabric-spec';
import { shortDigest } from '../../../model/identifiers';
import { terraformLiterals } from '../../terraform-strings';
import { DEFAULT_STORAGE_POOL, KvmHostProps } from './kvm-host';

/** An image uploaded from a source, every default filled in; `sha256` (lower case) only when the config gives one. */
export type ResolvedSourceImage = { readonly source: string; readonly name: string; readonly sha256?: string };

/** A base image as one host holds it, every default filled in: what the lock records and what names its volume. */
export type ResolvedBaseImage = ResolvedSourceImage | { readonly volumeName: string; readonly pool: string };

/** The name of the host's storage pool (the pool's own name, also when the platform creates it). */
export function poolNameOf(host: KvmHostProps): string {
  return (host.storagePool ?? DEFAULT_STORAGE_POOL).name;
}

/** The checksum as compared and recorded: lower case (a Terraform reference stays as it is). */
function sha256Of(image: ImageFromSource): { sha256?: string } {
  if (image.sha256 === undefined) return {};
  return { sha256: Token.isUnresolved(image.sha256) ? image.sha256 : image.sha256.toLowerCase() };
}

/** The host's own base image. */
export function hostBaseImageOf(host: KvmHostProps, fabricName: string): ResolvedBaseImage {
  const image = host.baseImage;
  return 'source' in image ? { source: image.source, name: image.name ?? `${fabricName}-base.qcow2`, ...sha256Of(image) } : { volumeName: image.volumeName, pool: image.pool ?? poolNameOf(host) };
}

/**
 * The base image of an appliance on its host: its own `image`, else the
 * host's. An uploaded image of its own is named by its source (and
 * checksum), so that two images on one host never share a volume name;
 * given the host's own source and checksum without a name, it is the host's
 * volume (one upload of one file). Its strings reach Terraform as literals,
 * as the host's do (the platform's props are escaped once, on construction).
 */
export function applianceBaseImageOf(host: KvmHostProps, fabricName: string, given: ApplianceImageSpec | undefined): ResolvedBaseImage {
  const hostImage = hostBaseImageOf(host, fabricName);
  const image = given && terraformLiterals(given);
  if (!image || 'template' in image) return hostImage;
  if ('source' in image) {
    const { sha256 } = sha256Of(image);
    if (image.name === undefined && 'source' in hostImage && hostImage.source === image.source && hostImage.sha256 === sha256) return hostImage;
    const named = sha256 === undefined ? image.source : `${image.source}\n${sha256}`;
    return { source: image.source, name: image.name ?? `${fabricName}-base-${shortDigest(named)}.qcow2`, ...(sha256 === undefined ? {} : { sha256 }) };
  }
  return { volumeName: image.volumeName, pool: image.pool ?? poolNameOf(host) };
}
