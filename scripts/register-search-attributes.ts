/**
 * Registers the project's custom search attributes on a Temporal cluster (the production stack's
 * setup step; the dev command passes them to `temporal server start-dev` instead). Idempotent.
 * Usage: TEMPORAL_ADDRESS=host:7233 TEMPORAL_NAMESPACE=default node --import tsx scripts/register-search-attributes.ts
 */
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfig } from '../domain/config';
import { searchAttributeFlags } from '../workflows/search-attributes';

const { IndexedValueType } = proto.temporal.api.enums.v1;
const typeOf: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

async function main(): Promise<void> {
  const { temporal } = loadConfig();
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    const missing: Record<string, proto.temporal.api.enums.v1.IndexedValueType> = {};
    for (const flag of searchAttributeFlags) {
      const [name = '', type = ''] = flag.split('=');
      if (!(name in (existing.customAttributes ?? {}))) missing[name] = typeOf[type]!;
    }
    if (Object.keys(missing).length > 0) {
      await connection.operatorService.addSearchAttributes({ namespace: temporal.namespace, searchAttributes: missing });
    }
    console.log(`search attributes: registered ${Object.keys(missing).join(', ') || 'nothing new'} in ${temporal.namespace}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error('register-search-attributes: failed:', err);
  process.exit(1);
});
