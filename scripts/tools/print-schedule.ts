/** Prints the retry schedule as the Markdown table in docs/delivery.md: `npx tsx scripts/tools/print-schedule.ts`. */
import { retrySchedule } from '../../domain/schedule';

function human(ms: number): string {
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['min', 60], ['s', 1]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join(' ') || '0 s';
}

console.log('| attempt | wait before it | since the first attempt |');
console.log('| ---: | ---: | ---: |');
for (const row of retrySchedule()) {
  console.log(`| ${row.attempt} | ${row.attempt === 1 ? '—' : human(row.waitMs)} | ${human(row.offsetMs)} |`);
}
