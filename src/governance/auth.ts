/**
 * Authentication on the hot path, in memory: a Bearer key is checked for format and checksum
 * (no I/O), digested, looked up in a cache of keys warmed at start-up and kept current by
 * change events, compared in constant time, and checked for expiry and revocation. Every
 * failure gives the same error. A well-formed key missing from the cache (created on another
 * replica a moment ago) costs one lookup, then is cached either way.
 */
import { AppError } from '../engine/app-error.ts';
import { digestKey, digestsEqual, isWellFormedKey, KEY_PREFIX } from './keys.ts';
import type { ApiKey, KeyRepository, Role } from './keys-repo.ts';
import type { Team, TeamRepository } from './teams-repo.ts';

export interface Principal {
  /** key: a virtual key; bootstrap: the admin key from the environment; open: open development mode. */
  kind: 'key' | 'bootstrap' | 'open';
  /** Key id, or "bootstrap" / "open". */
  keyId: string;
  /** The key's team; null for the bootstrap and open principals (all teams). */
  teamId: string | null;
  role: Role;
  key: ApiKey | undefined;
  team: Team | undefined;
}

export const OPEN_PRINCIPAL: Principal = { kind: 'open', keyId: 'open', teamId: null, role: 'admin', key: undefined, team: undefined };
const BOOTSTRAP_PRINCIPAL: Principal = { kind: 'bootstrap', keyId: 'bootstrap', teamId: null, role: 'admin', key: undefined, team: undefined };

/** The one answer to every authentication failure, so failures cannot be told apart. */
export const unauthenticated = () => new AppError('UNAUTHENTICATED', 'Invalid or missing API key.');

export interface AuthenticatorOptions {
  keys: KeyRepository;
  teams: TeamRepository;
  /** The bootstrap admin credential; without one (and outside production) the gateway is open. */
  adminKey: string | undefined;
  /** Called for every failed attempt (bursts become audit events). */
  onFailure?: (reason: string) => void;
  now?: () => number;
}

export interface Authenticator {
  readonly open: boolean;
  /** Loads every key and team into memory. */
  warm(): Promise<void>;
  /** Resolves the principal for an Authorization header value; throws UNAUTHENTICATED. */
  authenticate(authorization: string | undefined | null): Promise<Principal>;
  /** Re-reads one key or team after a change (here or on another replica). */
  refreshKey(id: string): Promise<void>;
  refreshTeam(id: string): Promise<void>;
  team(id: string): Team | undefined;
  key(id: string): ApiKey | undefined;
  /** Whether a principal's key is still valid now (for long-lived WebSocket connections). */
  stillValid(p: Principal): boolean;
}

const NEGATIVE_TTL_MS = 30_000;

export function createAuthenticator(o: AuthenticatorOptions): Authenticator {
  const now = o.now ?? Date.now;
  const byDigest = new Map<string, ApiKey>();
  const byId = new Map<string, ApiKey>();
  const teams = new Map<string, Team>();
  const misses = new Map<string, number>();
  const adminDigest = o.adminKey ? digestKey(o.adminKey) : undefined;

  const put = (k: ApiKey) => {
    const old = byId.get(k.id);
    if (old && old.digest !== k.digest) byDigest.delete(old.digest);
    byId.set(k.id, k);
    byDigest.set(k.digest, k);
    misses.delete(k.digest);
  };
  const usable = (k: ApiKey) => !k.revokedAt && (!k.expiresAt || k.expiresAt.getTime() > now());
  const fail = (reason: string): never => {
    o.onFailure?.(reason);
    throw unauthenticated();
  };

  return {
    open: adminKeyMissing(o.adminKey),
    async warm() {
      const [keys, allTeams] = await Promise.all([o.keys.findAll(), o.teams.findAll()]);
      for (const k of keys) put(k);
      for (const t of allTeams) teams.set(t.id, t);
    },
    async authenticate(authorization) {
      const m = typeof authorization === 'string' ? /^Bearer (.+)$/.exec(authorization) : null;
      const token = m?.[1];
      if (!token) {
        if (adminKeyMissing(o.adminKey)) return OPEN_PRINCIPAL;
        return fail('missing');
      }
      const digest = digestKey(token);
      if (adminDigest && digestsEqual(digest, adminDigest)) return BOOTSTRAP_PRINCIPAL;
      if (!isWellFormedKey(token)) {
        // Open mode accepts any placeholder an SDK insists on sending; our own keys are still checked.
        if (adminKeyMissing(o.adminKey) && !token.startsWith(KEY_PREFIX)) return OPEN_PRINCIPAL;
        return fail('malformed');
      }
      let key = byDigest.get(digest);
      if (!key) {
        const missedAt = misses.get(digest);
        if (missedAt !== undefined && now() - missedAt < NEGATIVE_TTL_MS) return fail('unknown');
        const found = await o.keys.findByDigest(digest);
        if (!found) {
          misses.set(digest, now());
          if (misses.size > 10_000) misses.delete(misses.keys().next().value!);
          return fail('unknown');
        }
        put(found);
        key = found;
      }
      if (!digestsEqual(key.digest, digest) || !usable(key)) return fail(key.revokedAt ? 'revoked' : 'expired');
      let team = teams.get(key.teamId);
      if (!team) {
        team = (await o.teams.findById(key.teamId)) ?? undefined;
        if (team) teams.set(team.id, team);
      }
      return { kind: 'key', keyId: key.id, teamId: key.teamId, role: key.role, key, team };
    },
    async refreshKey(id) {
      const k = await o.keys.findById(id);
      if (k) put(k);
      else {
        const old = byId.get(id);
        if (old) byDigest.delete(old.digest);
        byId.delete(id);
      }
    },
    async refreshTeam(id) {
      const t = await o.teams.findById(id);
      if (t) teams.set(id, t);
      else teams.delete(id);
    },
    team: (id) => teams.get(id),
    key: (id) => byId.get(id),
    stillValid(p) {
      if (p.kind !== 'key') return true;
      const k = byId.get(p.keyId);
      return !!k && usable(k);
    },
  };
}

function adminKeyMissing(adminKey: string | undefined): boolean {
  return !adminKey;
}
