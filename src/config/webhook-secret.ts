// Standard Webhooks secrets as the spec's verifier libraries take them by
// default (npm `standardwebhooks`, `svix`): `whsec_` + the base64 of the key.
// The HMAC key is the decoded part, never the text: a receiver that hands the
// same string to its library must compute the same signature. Anything else is
// a config error, not a guess (a raw secret used as bytes verifies nowhere).

export const SECRET_PREFIX = 'whsec_'
/** the spec asks for 24 to 64 random bytes; fewer is a placeholder, not a key */
export const MIN_KEY_BYTES = 24
/** how an operator makes one (the message names the file it goes to) */
export const MAKE_SECRET = `printf 'whsec_%s\\n' "$(head -c 32 /dev/urandom | base64)"`

// Standard base64 with its padding, as @stablelib/base64 (behind `standardwebhooks`) decodes it.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Why `secret` is not a usable Standard Webhooks secret, or undefined when it is. Never repeats the secret. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return 'does not start with whsec_'
  const encoded = secret.slice(SECRET_PREFIX.length)
  if (!encoded || !BASE64.test(encoded)) return 'is not whsec_ followed by base64 (A-Z a-z 0-9 + / and = padding)'
  const bytes = Buffer.from(encoded, 'base64').length
  if (bytes < MIN_KEY_BYTES) return `holds a ${bytes}-byte key; use at least ${MIN_KEY_BYTES} random bytes`
  return undefined
}

/** The HMAC key of a secret that passed secretProblem(). */
export function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError('not a whsec_ secret')
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
}
