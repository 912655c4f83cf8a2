/** OpenSSH public keys: their form, and what sshd on the nodes accepts from a login key (cloud-init/ssh.ts renders it). */

/** The smallest RSA key sshd accepts (RequiredRSASize, OpenSSH 9.1+). */
export const MIN_RSA_BITS = 3072;

/** OpenSSH key types an SSH server's host key can have. */
export const HOST_KEY_TYPES = 'ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521';
/** OpenSSH key types a login may use: the host key types, DSA and the security-key types. */
export const USER_KEY_TYPES = `${HOST_KEY_TYPES}|ssh-dss|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com`;

/** `type base64 [comment]`, one public key in OpenSSH form. */
export function isOpensshKey(key: string, types: string): boolean {
  return new RegExp(`^(${types}) [A-Za-z0-9+/=]+( .*)?$`).test(key.trim());
}

/**
 * The bit length of an `ssh-rsa` public key's modulus, read from the key's
 * wire format (RFC 4253 6.6: string "ssh-rsa", mpint e, mpint n); undefined
 * when the blob is not one.
 */
export function rsaModulusBits(base64Blob: string): number | undefined {
  const blob = Buffer.from(base64Blob, 'base64');
  let at = 0;
  const field = (): Buffer | undefined => {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    const value = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  if (field()?.toString('latin1') !== 'ssh-rsa' || field() === undefined) return undefined;
  const modulus = field();
  if (!modulus) return undefined;
  let i = 0;
  while (i < modulus.length && modulus[i] === 0) i++; // an mpint's sign byte
  if (i === modulus.length) return 0;
  return (modulus.length - i - 1) * 8 + (32 - Math.clz32(modulus[i]));
}
