import { ApplianceImageSpec } from '../../../model/fabric-spec';
import { shortDigest } from '../../../model/identifiers';
import { DEFAULT_STORAGE_POOL, KvmHostProps } from './kvm-host';

/** A base image as one host holds it, every default filled in: what the lock records and what names its volume. */
export type ResolvedBaseImage = { readonly source: string; readonly name: string } | { readonly volumeName: string; readonly pool: string };

/** The name of the host's storage pool (the pool's own name, also when the platform creates it). */
export function poolNameOf(host: KvmHostProps): string {
  return (host.storagePool ?? DEFAULT_STORAGE_POOL).name;
}

/** The host's own base image. */
export function hostBaseImageOf(host: KvmHostProps, fabricName: string): ResolvedBaseImage {
  const image = host.baseImage;
  return 'source' in image ? { source: image.source, name: image.name ?? `${fabricName}-base.qcow2` } : { volumeName: image.volumeName, pool: image.pool ?? poolNameOf(host) };
}

/**
 * The base image of an appliance on its host: its own `image`, else the
 * host's. An uploaded image of its own is named by its source, so that two
 * images on one host never share a volume name; given the host's own source
 * without a name, it is the host's volume (one upload of one file).
 */
export function applianceBaseImageOf(host: KvmHostProps, fabricName: string, image: ApplianceImageSpec | undefined): ResolvedBaseImage {
  const hostImage = hostBaseImageOf(host, fabricName);
  if (!image || 'template' in image) return hostImage;
  if ('source' in image) {
    if (image.name === undefined && 'source' in hostImage && hostImage.source === image.source) return hostImage;
    return { source: image.source, name: image.name ?? `${fabricName}-base-${shortDigest(image.source)}.qcow2` };
  }
  return { volumeName: image.volumeName, pool: image.pool ?? poolNameOf(host) };
}
