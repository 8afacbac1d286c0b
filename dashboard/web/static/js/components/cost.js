// The estimated-cost KPI card of the overview and agent pages.

import * as f from '../format.js';
import { kpi, cost } from '../ui.js';
import { palette } from '../charts.js';

// costKPI is the "est. cost" card: what the priced calls cost, and how
// many calls it leaves out (never counted as $0).
export function costKPI(k, spark) {
  const out = [];
  if (Number(k.unpriced_calls)) out.push(`${f.int(k.unpriced_calls)} unpriced`);
  if (Number(k.no_usage_calls)) out.push(`${f.int(k.no_usage_calls)} without usage`);
  if (Number(k.partial_calls)) out.push(`${f.int(k.partial_calls)} cut short`);
  const note = out.length ? out.join(' · ') : `${f.plural(Number(k.priced_calls) || 0, 'priced call')}`;
  return kpi({ label: 'Est. cost', value: cost(k), note, spark: spark ? spark.map((v) => v || 0) : undefined, color: palette.amber, testid: 'cost' });
}
