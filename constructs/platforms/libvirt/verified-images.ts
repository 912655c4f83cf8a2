import { AssetType, DataResource, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { packageFile } from '../../../cloud-init/assets';
import { canonicalJson } from '../../../model/identity';
import { shortDigest } from '../../../model/identifiers';
import { ResolvedSourceImage } from './base-images';

/** The script that fetches and checks an image, a file the package ships (package.json "files"). */
export const FETCH_IMAGE_SCRIPT = 'constructs/platforms/libvirt/assets/fetch-verified-image';

/** Construct id of the platform's verified images, under its `libvirt` scope: what the day-2 runner recognizes them by. */
export const VERIFIED_IMAGES_ID = 'verified_images';

/** @defaultOf LibvirtPlatformProps.imageCacheDirectory */
export const DEFAULT_IMAGE_CACHE_DIRECTORY = '.image-cache';

/** What a base volume reads its image from. */
export interface VolumeSource {
  /** The volume's `source`: the checked copy, or the path as given. */
  readonly source: string;
  /** What must be in place before libvirt reads it. */
  readonly dependsOn?: DataResource[];
}

/**
 * The images with a `sha256`, each fetched and checked once on the machine
 * that runs Terraform, before any host's base volume reads it. The
 * provider (dmacvicar/libvirt 0.8.3) checks nothing: given a URL it
 * downloads the image straight into the volume. So a `terraform_data`
 * per distinct image runs `fetch-verified-image`, which downloads (or
 * copies) the image into the cache directory, checks its SHA-256 and only
 * then moves it into place as `<sha256>.qcow2`; the volumes upload that
 * file and depend on the `terraform_data`. The file's name is a literal,
 * known at plan, so that re-creating the `terraform_data` never replaces a
 * volume. A path without `sha256` is uploaded as it is, as before.
 */
export class VerifiedImages extends Construct {
  private readonly cacheDirectory: string;
  private readonly fetches = new Map<string, DataResource>();
  private script?: TerraformAsset;

  constructor(scope: Construct, id: string, props: { readonly cacheDirectory: string }) {
    super(scope, id);
    this.cacheDirectory = props.cacheDirectory.replace(/(.)\/+$/, '$1');
  }

  /** Where a volume of `image` reads it from (once per image, whichever host asks first). */
  sourceOf(image: ResolvedSourceImage): VolumeSource {
    if (image.sha256 === undefined) return { source: image.source };
    const file = `${this.cacheDirectory}/${image.sha256}.qcow2`;
    const key = canonicalJson({ source: image.source, sha256: image.sha256 });
    let fetch = this.fetches.get(key);
    if (!fetch) {
      this.script ??= new TerraformAsset(this, 'fetch_script', { path: packageFile(FETCH_IMAGE_SCRIPT), type: AssetType.FILE });
      fetch = new DataResource(this, `image_${shortDigest(key)}`, {
        // A new source, checksum or cache directory fetches again; a rerun keeps a checked file.
        triggersReplace: { source: image.source, sha256: image.sha256, file },
        provisioners: [
          {
            type: 'local-exec',
            interpreter: ['bash'],
            command: this.script.path,
            // Not on the command line: a URL may carry a token.
            environment: { IMAGE_SOURCE: image.source, IMAGE_SHA256: image.sha256, IMAGE_FILE: file },
          },
        ],
      });
      this.fetches.set(key, fetch);
    }
    return { source: file, dependsOn: [fetch] };
  }
}
