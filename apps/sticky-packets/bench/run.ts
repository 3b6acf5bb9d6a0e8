/**
 * Runs the sticky-packet experiment alone and prints its conclusions and tables:
 *   npx tsx bench/run.ts [--quick] [--json FILE]
 * (The bench orchestrator calls `runStickyPackets` itself and renders the charts.)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runStickyPackets } from '../src/index.js';

const quick = process.argv.includes('--quick');
const jsonAt = process.argv.indexOf('--json');
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());

const section = await runStickyPackets({
  quick,
  signal: controller.signal,
  cliPath: fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url)),
  progress: (e) =>
    process.stderr.write(
      `[${e.done}/${e.total}]${e.etaSeconds === undefined ? '' : ` ~${e.etaSeconds}s left`} ${e.scenario}\n`,
    ),
});
console.log(`## ${section.title}\n\n${section.markdown}\n\n### Conclusions\n`);
for (const c of section.conclusions) console.log(`- ${c}`);
console.log(`\n### Commands\n\n${section.commands.map((c) => `    ${c}`).join('\n')}`);
const jsonPath = jsonAt >= 0 ? process.argv[jsonAt + 1] : undefined;
if (jsonPath) writeFileSync(jsonPath, JSON.stringify(section, null, 2));
