/**
 * The `api_keys` repository. Keys are stored by digest only; listings show the prefix and the
 * last four characters. (Key issuance and verification build on this in the governance module.)
 */
import type { DocCollection, DocStore, IndexSpec } from '../store/collection.ts';

export type Role = 'admin' | 'member' | 'viewer';

export interface ApiKey {
  id: string;
  teamId: string;
  name: string;
  role: Role;
  /** Visible prefix, e.g. "sy_live_". */
  prefix: string;
  /** Last four characters of the key, for recognition in listings. */
  last4: string;
  /** SHA-256 (HMAC) digest of the key, hex. */
  digest: string;
  createdAt: Date;
  expiresAt?: Date;
  revokedAt?: Date;
}

type KeyDoc = Omit<ApiKey, 'id'> & { _id: string };

export interface KeyRepository {
  init(): Promise<void>;
  insert(key: ApiKey): Promise<void>;
  /** Results in the order of `ids` (null where absent), for DataLoader. */
  findManyByIds(ids: readonly string[]): Promise<Array<ApiKey | null>>;
}

export function keyIndexes(): IndexSpec[] {
  return [
    { key: { digest: 1 }, name: 'digest_unique', unique: true },
    { key: { teamId: 1 }, name: 'team' },
  ];
}

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
      const byId = new Map(docs.map(({ _id, ...rest }) => [_id, { ...rest, id: _id }]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  };
}
