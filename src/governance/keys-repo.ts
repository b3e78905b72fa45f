/**
 * The `api_keys` repository. A key is stored by its SHA-256 digest only; listings show the
 * prefix and the last four characters. The plaintext exists once, in the creation response.
 */
import type { DocCollection, DocStore, IndexSpec } from '../store/collection.ts';
import type { BudgetConfig, LimitsConfig } from './policy.ts';

export type Role = 'admin' | 'member' | 'viewer';

export interface ApiKey extends LimitsConfig {
  id: string;
  teamId: string;
  name: string;
  role: Role;
  /** Visible prefix, e.g. "sy_live_". */
  prefix: string;
  /** Last four characters of the key, for recognition in listings. */
  last4: string;
  /** SHA-256 digest of the key, hex. */
  digest: string;
  /** Model allow-list patterns (names, aliases, routes, `*` wildcards); null = the team's list. */
  models: string[] | null;
  budget: BudgetConfig | null;
  createdAt: Date;
  /** Key id of the creator ("bootstrap" for the admin key from the environment). */
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

type KeyDoc = Omit<ApiKey, 'id'> & { _id: string };

export interface KeyRepository {
  init(): Promise<void>;
  insert(key: ApiKey): Promise<void>;
  /** Results in the order of `ids` (null where absent), for DataLoader. */
  findManyByIds(ids: readonly string[]): Promise<Array<ApiKey | null>>;
  findById(id: string): Promise<ApiKey | null>;
  findByDigest(digest: string): Promise<ApiKey | null>;
  /** Every key (to warm the in-memory cache at start-up); bounded by `limit`. */
  findAll(limit?: number): Promise<ApiKey[]>;
  findByTeam(teamId: string | null, limit: number): Promise<ApiKey[]>;
  update(id: string, patch: Partial<Pick<ApiKey, 'name' | 'models' | 'rpm' | 'tpm' | 'budget' | 'expiresAt' | 'revokedAt'>>): Promise<ApiKey | null>;
}

export function keyIndexes(): IndexSpec[] {
  return [
    { key: { digest: 1 }, name: 'digest_unique', unique: true },
    { key: { teamId: 1 }, name: 'team' },
  ];
}

const fromDoc = ({ _id, ...rest }: KeyDoc): ApiKey => ({ ...rest, id: _id });

export function createKeyRepository(store: DocStore): KeyRepository {
  const col: DocCollection<KeyDoc> = store.collection<KeyDoc>('api_keys');
  return {
    async init() {
      await col.createIndexes(keyIndexes());
    },
    async insert(key) {
      const { id, ...rest } = key;
      const res = await col.insertMany([{ _id: id, ...rest }]);
      if (res.errors.length) throw new Error(res.errors[0]!.message);
    },
    async findManyByIds(ids) {
      const docs = await col.find({ _id: { $in: [...new Set(ids)] } }, { maxTimeMS: 5_000 });
      const byId = new Map(docs.map((d) => [d._id, fromDoc(d)]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    async findById(id) {
      const d = await col.findOne({ _id: id }, { maxTimeMS: 5_000 });
      return d ? fromDoc(d) : null;
    },
    async findByDigest(digest) {
      const d = await col.findOne({ digest }, { maxTimeMS: 5_000 });
      return d ? fromDoc(d) : null;
    },
    async findAll(limit = 100_000) {
      return (await col.find({}, { limit, maxTimeMS: 30_000 })).map(fromDoc);
    },
    async findByTeam(teamId, limit) {
      return (await col.find(teamId === null ? {} : { teamId }, { sort: { createdAt: -1, _id: -1 }, limit, maxTimeMS: 5_000 })).map(fromDoc);
    },
    async update(id, patch) {
      const set: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) set[k] = v;
      if (Object.keys(set).length) await col.updateOne({ _id: id }, { $set: set });
      return this.findById(id);
    },
  };
}
