/**
 * Turns {@link StickyResults} into the report section: tables, charts and conclusions, every number
 * computed from the runs.
 */
import { type ChartSpec, describeVerdict, type ReportSection, type Verdict, verdictOf } from '@iolab/harness';
import { nativeCodec, type RunRecord, type StickyResults } from './results.js';
import type { Scenario, ScenarioId } from './scenarios.js';
import { type CodecResult, READ_SIZE_BUCKETS, type StreamView } from './stream-analyzer.js';
import { TARGET_LABELS } from './targets.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (part: number, whole: number): string =>
  whole === 0 ? 'n/a' : `${Math.round((part / whole) * 100)} %`;
function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

function codecCell(c: CodecResult | undefined): string {
  if (!c) return 'n/a';
  return `${int(c.intact)}${c.corrupt ? ` (+${int(c.corrupt)} corrupt)` : ''}${c.error ? ` ${c.error}` : ''}`;
}

/** Messages a view's codecs recovered intact, by the protocol's own codec. */
function recovered(run: RunRecord, view: StreamView): number {
  return view.codecs[nativeCodec(run.protocol)]?.intact ?? 0;
}

function allCodecsRecovered(run: RunRecord, view: StreamView): boolean {
  return Object.values(view.codecs).every(
    (c) => c === undefined || (c.intact === run.sent && c.corrupt === 0 && !c.error),
  );
}

function scenarioTable(runs: readonly RunRecord[]): string {
  const rows = [
    '| target | protocol | view | sent | reads | naive "messages" | naive intact | length-field | line | fixed-length | mean read | max read |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const run of runs) {
    const views: [string, StreamView][] = [];
    if (run.server) views.push(['server reads', run.server]);
    views.push(['client reads (echo)', run.client]);
    for (const [name, v] of views) {
      rows.push(
        `| ${TARGET_LABELS[run.target]} | ${run.protocol} | ${name} | ${int(run.sent)} | ${int(v.reads)} | ${int(v.naive.messages)} | ${int(v.naive.intact)} (${pct(v.naive.intact, run.sent)}) | ${codecCell(v.codecs['length-field'])} | ${codecCell(v.codecs.line)} | ${codecCell(v.codecs['fixed-length'])} | ${bytes(v.meanRead)} | ${bytes(v.maxRead)} |`,
      );
    }
    if (!run.complete)
      rows.push(
        `| ${TARGET_LABELS[run.target]} | ${run.protocol} | incomplete | ${run.error ?? ''} | | | | | | | | |`,
      );
  }
  return rows.join('\n');
}

/** The view that shows the scenario best: the reference server's own reads for the write-side scenarios. */
function headlineView(run: RunRecord): { view: StreamView; where: string } {
  if (run.server && (run.scenario === 'nagle-on' || run.scenario === 'nagle-off')) {
    return { view: run.server, where: 'reached the reference server' };
  }
  return { view: run.client, where: `came back to the client from ${TARGET_LABELS[run.target]}` };
}

function codecSentence(run: RunRecord, view: StreamView): string {
  const names = Object.entries(view.codecs)
    .filter(([, c]) => c !== undefined)
    .map(([n]) => n);
  if (allCodecsRecovered(run, view)) return `${names.join(' and ')} decoding recovered all ${int(run.sent)}`;
  const parts = names.map((n) => {
    const c = view.codecs[n as keyof typeof view.codecs] as CodecResult;
    return `${n} ${int(c.intact)}${c.corrupt ? ` (+${int(c.corrupt)} corrupt)` : ''}${c.error ? ` [${c.error}]` : ''}`;
  });
  return `codecs recovered: ${parts.join(', ')} of ${int(run.sent)}`;
}

const NAGLE_ON = 'Nagle on';
const NAGLE_OFF = 'Nagle off (TCP_NODELAY)';

/**
 * Nagle on vs off by messages per read, one figure per complete run (every target and protocol), with the 95 %
 * CI of the ratio (Welch's t on the logs, from the harness); a winner only when the interval excludes 1.
 */
export function nagleVerdict(results: StickyResults): Verdict | null {
  const perRead = (id: ScenarioId): number[] =>
    results.runs
      .filter((r) => r.scenario === id && r.complete)
      .map((r) => r.sent / Math.max(headlineView(r).view.reads, 1));
  return verdictOf(
    { experiment: 'sticky packets', workload: 'messages per read', connections: 1 },
    { name: NAGLE_ON, windows: perRead('nagle-on') },
    { name: NAGLE_OFF, windows: perRead('nagle-off') },
  );
}

function conclusions(results: StickyResults): string[] {
  const out: string[] = [];
  const byScenario = (id: ScenarioId) => results.runs.filter((r) => r.scenario === id);
  const scenario = (id: ScenarioId) => results.scenarios.find((s) => s.id === id) as Scenario;
  const first = (id: ScenarioId): RunRecord | undefined => {
    const runs = byScenario(id).filter((r) => r.complete);
    return runs.find((r) => r.target === 'reference' && r.protocol === 'echo-lp') ?? runs[0];
  };

  for (const id of ['nagle-on', 'nagle-off'] as const) {
    const run = first(id);
    if (!run) continue;
    const { view, where } = headlineView(run);
    const s = scenario(id);
    out.push(
      `${s.noDelay ? 'With Nagle off' : 'With Nagle on'}, ${int(run.sent)} writes of ${bytes(s.messageBytes)} (${run.protocol}) ${where} in ${int(view.reads)} reads; a naive one-read-one-message reader would have seen ${int(view.naive.messages)} "messages" (${pct(run.sent - view.naive.intact, run.sent)} of the messages wrong); ${codecSentence(run, view)}.`,
    );
  }
  const nagle = nagleVerdict(results);
  if (nagle) {
    const wording =
      nagle.winner === null
        ? `Nagle made no difference to the grouping outside the noise (${describeVerdict(nagle)}): the receiver's read timing set it`
        : nagle.winner === NAGLE_ON
          ? `Nagle on packed more messages into each read: ${describeVerdict(nagle)}`
          : `Nagle off packed more messages into each read (the receiver, not Nagle, set the grouping here): ${describeVerdict(nagle)}`;
    out.push(
      `Messages per read, over every complete run of each: ${wording}; either way messages shared reads, so TCP_NODELAY is no substitute for framing.`,
    );
  }

  const large = byScenario('large').filter((r) => r.complete);
  if (large.length > 0) {
    const s = scenario('large');
    const reads = large.reduce((a, r) => a + r.client.reads, 0);
    const msgs = large.reduce((a, r) => a + r.sent, 0);
    const maxRead = Math.max(...large.map((r) => r.client.maxRead));
    const naiveIntact = large.reduce((a, r) => a + r.client.naive.intact, 0);
    const sb = results.socketBuffers;
    const buffers = [
      sb.tcpWmem?.[1] === undefined ? undefined : `initial SO_SNDBUF ${bytes(sb.tcpWmem[1])}`,
      sb.tcpRmem?.[1] === undefined ? undefined : `initial SO_RCVBUF ${bytes(sb.tcpRmem[1])}`,
    ]
      .filter(Boolean)
      .join(', ');
    out.push(
      `A ${bytes(s.messageBytes)} message${buffers ? ` (${buffers})` : ''} arrived in ${(reads / msgs).toFixed(1)} reads on average over ${large.length} runs, the largest read ${bytes(maxRead)}; the naive reader got ${int(naiveIntact)} of ${int(msgs)} messages intact, while ${large.every((r) => allCodecsRecovered(r, r.client)) ? 'every codec recovered every one' : 'the codecs did not recover them all (see table)'}.`,
    );
  }

  const slow = byScenario('slow-receiver').filter((r) => r.complete);
  if (slow.length > 0) {
    const s = scenario('slow-receiver');
    const reads = slow.reduce((a, r) => a + r.client.reads, 0);
    const msgs = slow.reduce((a, r) => a + r.sent, 0);
    const endsMid = slow.reduce((a, r) => a + (r.client.reads - r.client.naive.intact), 0);
    out.push(
      `A receiver pausing ${s.readerPauseMs} ms after each read got ${int(msgs / slow.length)} messages of ${bytes(s.messageBytes)} in ${(reads / slow.length).toFixed(1)} reads on average (${(msgs / Math.max(reads, 1)).toFixed(1)} messages per read, largest read ${bytes(Math.max(...slow.map((r) => r.client.maxRead)))}); ${pct(endsMid, reads)} of its reads were not exactly one message.`,
    );
  }

  const complete = results.runs.filter((r) => r.complete);
  if (complete.length > 0) {
    let views = 0;
    let sent = 0;
    let got = 0;
    let corrupt = 0;
    let naive = 0;
    for (const r of complete) {
      for (const v of [r.client, r.server]) {
        if (!v) continue;
        views++;
        sent += r.sent;
        got += recovered(r, v);
        corrupt += v.codecs[nativeCodec(r.protocol)]?.corrupt ?? 0;
        naive += v.naive.intact;
      }
    }
    const failing = complete.filter(
      (r) => !allCodecsRecovered(r, r.client) || (r.server && !allCodecsRecovered(r, r.server)),
    );
    const targets = [...new Set(complete.map((r) => r.target))].map((t) => TARGET_LABELS[t]);
    out.push(
      `Across ${complete.length} runs (${targets.join(', ')}; ${views} observed streams), each protocol's own codec recovered ${int(got)} of ${int(sent)} messages with ${int(corrupt)} checksum failures, while one-read-one-message got ${pct(naive, sent)} right${failing.length ? `; codecs fell short in ${failing.map((r) => `${r.target}/${r.protocol}/${r.scenario}`).join(', ')}` : ''}.`,
    );
  }
  const incomplete = results.runs.filter((r) => !r.complete);
  if (incomplete.length > 0) {
    out.push(
      `${incomplete.length} runs did not receive every echoed byte: ${incomplete.map((r) => `${r.target}/${r.protocol}/${r.scenario} (${r.error ?? 'closed early'})`).join('; ')}.`,
    );
  }
  if (results.unavailable.length > 0) {
    out.push(
      `Not measured: ${results.unavailable.map((u) => `${u.target}/${u.protocol} (${u.reason.split('\n')[0]?.slice(0, 120)})`).join('; ')}.`,
    );
  }
  return out;
}

function charts(results: StickyResults): ChartSpec[] {
  const out: ChartSpec[] = [];
  const order = READ_SIZE_BUCKETS.map((b) => b.label);
  for (const s of results.scenarios) {
    const values: { bucket: string; reads: number; stream: string }[] = [];
    for (const r of results.runs.filter((x) => x.scenario === s.id && x.protocol === 'echo-lp')) {
      const streams: [string, StreamView | undefined][] = [
        [`${r.target}: server reads`, r.server],
        [`${r.target}: client reads`, r.client],
      ];
      for (const [stream, v] of streams) {
        if (!v) continue;
        for (const label of order) values.push({ bucket: label, reads: v.readSizes[label] ?? 0, stream });
      }
    }
    if (values.length === 0) continue;
    out.push({
      id: `sticky-read-sizes-${s.id}`,
      title: `Read sizes: ${s.title} (echo-lp, ${int(s.messages)} × ${bytes(s.messageBytes)})`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        description: `Distribution of read sizes, ${s.title}`,
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'bucket', type: 'ordinal', sort: order, title: 'read size' },
          xOffset: { field: 'stream' },
          y: { field: 'reads', type: 'quantitative', scale: { type: 'symlog' }, title: 'reads' },
          color: { field: 'stream', type: 'nominal', title: 'stream' },
          tooltip: [{ field: 'stream' }, { field: 'bucket' }, { field: 'reads' }],
        },
        width: 480,
        height: 220,
      },
    });
  }
  const counts: { scenario: string; measure: string; count: number }[] = [];
  for (const s of results.scenarios) {
    const runs = results.runs.filter((r) => r.scenario === s.id && r.complete);
    if (runs.length === 0) continue;
    const sum = (f: (r: RunRecord) => number): number => runs.reduce((a, r) => a + f(r), 0);
    counts.push(
      { scenario: s.id, measure: '1 sent', count: sum((r) => r.sent) },
      { scenario: s.id, measure: '2 naive "messages" (reads)', count: sum((r) => r.client.naive.messages) },
      { scenario: s.id, measure: '3 naive intact', count: sum((r) => r.client.naive.intact) },
      {
        scenario: s.id,
        measure: "4 decoded by the protocol's codec",
        count: sum((r) => recovered(r, r.client)),
      },
    );
  }
  if (counts.length > 0) {
    out.push({
      id: 'sticky-naive-vs-decoded',
      title: 'Messages sent, naive reads and decoded messages (client side, all targets)',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        data: { values: counts },
        mark: 'bar',
        encoding: {
          x: { field: 'scenario', type: 'nominal', title: 'scenario' },
          xOffset: { field: 'measure' },
          y: { field: 'count', type: 'quantitative', scale: { type: 'symlog' }, title: 'count (symlog)' },
          color: { field: 'measure', type: 'nominal', title: '' },
          tooltip: [{ field: 'scenario' }, { field: 'measure' }, { field: 'count' }],
        },
        width: 480,
        height: 240,
      },
    });
  }
  return out;
}

export function buildReport(results: StickyResults, commands: readonly string[]): ReportSection {
  const sb = results.socketBuffers;
  const md: string[] = [];
  md.push(
    'TCP delivers a byte stream: one read can hold several messages or part of one. Each scenario writes ' +
      'messages that carry a sequence number and a checksum (' +
      results.checksum +
      '), one `write()` per message, to an echo peer, and watches the reads: a *naive* reader treats each read ' +
      'as one message; the `@iolab/framing` codecs (length-field for echo-lp, line for echo-line, fixed-length ' +
      'for both since every message in a run has the same size) cut the stream back into messages. "Intact" ' +
      'means the checksum matched. The reference peer is an in-process raw echo that also records its own ' +
      "reads (the client's writes as they arrive); the server models and the balancer are seen from the " +
      'client, reading their echo.',
  );
  md.push('');
  md.push('| socket buffer | min | default | max |', '|---|---:|---:|---:|');
  if (sb.tcpRmem) md.push(`| tcp_rmem (SO_RCVBUF, autotuned) | ${sb.tcpRmem.map(bytes).join(' | ')} |`);
  if (sb.tcpWmem) md.push(`| tcp_wmem (SO_SNDBUF, autotuned) | ${sb.tcpWmem.map(bytes).join(' | ')} |`);
  md.push(`| Node read buffer (per read) | | ${bytes(sb.nodeReadBufferBytes)} | |`);
  md.push('');
  for (const s of results.scenarios) {
    md.push(`### ${s.title}`, '', s.shows, '');
    md.push(
      `${int(s.messages)} messages of ${bytes(s.messageBytes)}, ${s.noDelay ? 'TCP_NODELAY' : 'Nagle on'}, writes in bursts of ${s.burst}${s.readerPauseMs ? `, reader pauses ${s.readerPauseMs} ms after every read` : ''}.`,
      '',
    );
    const runs = results.runs.filter((r) => r.scenario === s.id);
    md.push(runs.length ? scenarioTable(runs) : '_no runs_', '');
  }
  if (results.unavailable.length > 0) {
    md.push('### Targets not measured', '');
    for (const u of results.unavailable)
      md.push(`- ${TARGET_LABELS[u.target]} (${u.protocol}): ${u.reason.split('\n')[0]}`);
    md.push('');
  }
  return {
    id: 'sticky-packets',
    title: 'Sticky packets: coalesced and split reads',
    markdown: md.join('\n'),
    conclusions: conclusions(results),
    charts: charts(results),
    commands,
    results,
    verdicts: [nagleVerdict(results)].filter((v): v is Verdict => v !== null),
  };
}
