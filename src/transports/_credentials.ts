/** Credentials kept out of messages: URLs in errors, logs and statuses. */

/**
 * The URL with its credentials hidden: `user:password@` keeps the user, a lone token is masked.
 * @example
 * maskUrl("nats://alice:secret@host:4222"); // "nats://alice:***@host:4222"
 */
export function maskUrl(url: string): string {
  return url.replace(CREDENTIALS, (_match, start: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${start}${colon === -1 ? "***" : `${userinfo.slice(0, colon)}:***`}@`;
  });
}

/** `user:password@` or `token@` after a scheme, or at the start of a URL without one. */
const CREDENTIALS = /(^|[a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/giu;
