// Gathers the `ratios` of every benchmark's latest JSON in bench/results/ into one table and
// bench/results/summary.json, so runs compare over time. `./dev bench` runs it at the end;
// `node bench/summary.mjs` runs it alone. Each ratio is from one run of its benchmark, where
// the product and its baseline shared the machine at the same time.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
const read = (name) => {
  const file = path.join(dir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};

// The ratios the throughput issue asks for, where each comes from, and its target.
const WANTED = [
  ['drainVsSeedPipeline', 'drain', '≥ 0.25 (stretch)'],
  ['drainVsBareKafkajs', 'drain', ''],
  ['drainVsStoreCeiling', 'drain', '≥ 0.5'],
  ['placeOrderVsNoop', 'place-order', '≥ 0.8'],
  ['endToEndVsDrain', 'end-to-end', '≥ 0.5'],
  ['subscribersHeld', 'fanout', '10,000'],
  ['updateByIdFlatness', 'store', '≥ 0.8'],
];

const rows = WANTED.map(([ratio, bench, target]) => {
  const report = read(bench);
  const value = report?.ratios?.[ratio];
  return { ratio, bench, target, value: value ?? null, measuredAt: report?.timestamp ?? null };
});
// The end-to-end benchmark takes the drain rate from drain.json when that ran first; when it
// ran after (./dev bench runs files in any order), the ratio is made here from the two files.
const endToEnd = rows.find((r) => r.ratio === 'endToEndVsDrain');
const sustainable = read('end-to-end')?.sustainableRate;
const drained = read('drain')?.results?.drain;
if (endToEnd.value === null && typeof sustainable === 'number' && drained?.complete && drained.ordersPerSecond > 0) {
  endToEnd.value = Math.round((sustainable / drained.ordersPerSecond) * 100) / 100;
  endToEnd.bench = 'end-to-end + drain';
}
const width = Math.max(...rows.map((r) => r.ratio.length));
console.log(`\nratios (bench/results/summary.json)\n${'ratio'.padEnd(width)}  value        target             from`);
for (const r of rows) {
  console.log(`${r.ratio.padEnd(width)}  ${String(r.value ?? '-').padEnd(11)}  ${r.target.padEnd(17)}  ${r.bench}.json ${r.measuredAt ?? '(not run)'}`);
}
writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify({ generatedAt: new Date().toISOString(), ratios: Object.fromEntries(rows.map((r) => [r.ratio, r.value])), rows }, null, 2)}\n`);
