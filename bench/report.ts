/**
 * @file The training benchmark's record as a readable plain-text report: the machine, the
 * steps/s table with bnlab's ratio to every peer, the validation pass, the split of a step, peak
 * memory, the rows per norm and the targets.
 */
import type { BenchRecord, SystemRow } from './bench-record.js';
import { SPLIT_PART_LABELS, SPLIT_PARTS } from './split.js';
import { type RunPlan, type Throughput, VARIANTS } from './workload.js';

type Align = 'left' | 'right';

/** Columns padded to their widest cell; `align` per column. */
function table(header: string[], rows: string[][], align: Align[]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

function planText(plan: RunPlan): string {
  return `${plan.runs}×${plan.stepsPerRun} (+${plan.warmupSteps})`;
}

function stepsPerSecondCell(throughput: Throughput | null): string {
  return throughput ? fixed(throughput.stepsPerSecond, throughput.stepsPerSecond >= 100 ? 0 : 1) : '—';
}

function ratioCell(row: SystemRow, variant: 'withoutBn' | 'withBn', cpu = false): string {
  const ratio = cpu ? row.bnlabCpuRatio[variant] : row.bnlabRatio[variant];
  return ratio === null ? '—' : `${fixed(ratio, ratio >= 10 ? 0 : 2)}×`;
}

export function formatReport(record: BenchRecord): string {
  const { machine } = record;
  const out: string[] = [];
  out.push(`bnlab training benchmark${record.quick ? ' (--quick: fewer repetitions)' : ''}, ${record.date}`);
  out.push(`machine: ${machine.cpu}, ${machine.logicalCores} logical cores, Node ${machine.node} (${machine.platform})`);
  out.push(
    'cpu' in machine.pinning
      ? `every system ran on logical CPU ${machine.pinning.cpu} (pinned with taskset, the PyTorch process too): the same core for bnlab and each peer`
      : `not pinned to one CPU (${machine.pinning.reason}): bnlab and a peer may have run on different cores`,
  );
  out.push(
    `load average (1 min): ${fixed(machine.loadAverageAtStart, 2)} at start, ${fixed(machine.loadAverageAtEnd, 2)} at end (above ~0.5, other work shares the cores and every number is low)`,
  );
  out.push(`bnlab ${record.bnlab.version}, backend: ${record.bnlab.backendVariant}`);
  out.push(`workload: ${record.workload}`);
  out.push('');
  out.push('Training steps per second (wall time), median of the timed runs. ratio = bnlab (first row) / that system; for a');
  out.push('peer, bnlab on pre-made batches as the peer is fed, and the median over rounds in which the two ran alternately');
  out.push('(so a passing load hits both); "cpu ratio" = the same in steps per CPU-second of each process:');
  out.push(
    table(
      ['system', 'backend', 'version', 'without BN', 'ratio', 'cpu ratio', 'with BN', 'ratio', 'cpu ratio', 'runs (+warm-up)'],
      record.rows.map((row) => {
        const plan = row.throughput.withBn?.plan ?? row.throughput.withoutBn?.plan;
        return [
          row.system,
          row.backend,
          row.version,
          stepsPerSecondCell(row.throughput.withoutBn),
          ratioCell(row, 'withoutBn'),
          ratioCell(row, 'withoutBn', true),
          stepsPerSecondCell(row.throughput.withBn),
          ratioCell(row, 'withBn'),
          ratioCell(row, 'withBn', true),
          plan ? planText(plan) : '—',
        ];
      }),
      ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  const notes = record.rows
    .filter((row) => row.note)
    .map((row) => {
      const quartiles = row.bnlabRatioQuartiles;
      const inPairs = row.bnlabInPairs
        ? `; bnlab in the alternating rounds: ${VARIANTS.map((v) => stepsPerSecondCell(row.bnlabInPairs![v])).join(' / ')} steps/s (without / with BN)` +
          (quartiles ? `; middle half of the rounds' ratios: ${VARIANTS.map((v) => quartileCell(quartiles[v])).join(' / ')}` : '')
        : '';
      return `  ${row.system} (${row.backend}): ${row.note}${inPairs}`;
    });
  for (const skipped of record.skippedPeers) notes.push(`  ${skipped.system}: not measured: ${skipped.reason}`);
  if (notes.length) out.push('notes:', ...notes);
  out.push('loss after the last timed step (a check that each system trained):');
  for (const row of record.rows) {
    const losses = VARIANTS.map((v) => fixed(row.throughput[v]?.lastLoss, 3)).join(' / ');
    out.push(`  ${row.system} ${row.backend}: ${losses} (without / with BN)`);
  }

  out.push('');
  const { bnlab, pytorch } = record.evaluation;
  out.push(`Validation pass (net.evaluate over ${bnlab.images} images, batches of 1,000, BN network after training):`);
  out.push(`  bnlab: ${fixed(bnlab.medianMs, 2)} ms (${fixed(bnlab.images / bnlab.medianMs, 0)}k images/s)`);
  if (pytorch)
    out.push(
      `  PyTorch: ${fixed(pytorch.medianMs, 2)} ms (${fixed(pytorch.images / pytorch.medianMs, 0)}k images/s); bnlab is ${fixed(pytorch.medianMs / bnlab.medianMs, 2)}× as fast`,
    );

  out.push('');
  const split = record.split;
  out.push(`Split of one bnlab step with BN (${split.steps} steps through a timing wrapper around every kernel call):`);
  out.push(
    table(
      ['part', 'µs/step', 'share'],
      SPLIT_PARTS.map((part) => [
        SPLIT_PART_LABELS[part],
        fixed(split.microsecondsPerStep[part], 1),
        `${fixed((100 * split.microsecondsPerStep[part]) / split.timedStepMicroseconds, 1)}%`,
      ]).concat([['whole step through the wrapper', fixed(split.timedStepMicroseconds, 1), '100%']]),
      ['left', 'right', 'right'],
    ),
  );
  out.push(`The step's matrix multiplies, each repeated alone (the kernels' own speed):`);
  out.push(
    table(
      ['call', 'µs', 'CPU µs', 'GFLOP/s'],
      split.matmulCalls.map((call) => [call.call, fixed(call.microseconds, 2), fixed(call.cpuMicroseconds, 2), fixed(call.gflops, 1)]),
      ['left', 'right', 'right', 'right'],
    ),
  );
  out.push(
    `  matrix work alone: ${fixed(split.matmulOnlyMicroseconds, 1)} µs (CPU ${fixed(split.matmulOnlyCpuMicroseconds, 1)} µs); whole step without the wrapper: ${fixed(split.plainStepMicroseconds, 1)} µs (CPU ${fixed(split.plainStepCpuMicroseconds, 1)} µs)`,
  );
  out.push(
    `  the step runs at ${fixed(100 * split.kernelEfficiency, 1)}% of what the matrix kernels allow (CPU time: ${fixed(100 * split.kernelEfficiencyCpu, 1)}%; matmul-only time / step time, target ≥ 60%)`,
  );

  out.push('');
  const memory = record.peakMemory;
  out.push(
    `Peak resident memory of one training run with BN (${memory.steps} steps, validation every 500, test pass; a child process on ${memory.backendVariant}, ${memory.measuredWith}):`,
  );
  out.push(
    `  ${fixed(memory.maxRssMb, 1)} MB peak; ${fixed(memory.maxRssAtStartMb, 1)} MB before loading MNIST, ${fixed(memory.maxRssAfterLoadMb, 1)} MB right after loading it (validation accuracy ${fixed(100 * memory.validationAccuracy, 2)}%)`,
  );

  out.push('');
  out.push(
    `Model 1's network with each norm (${record.bnlab.backendVariant}, pre-made batches; the norms' runs alternate round by round; step time vs BN's: median and quartiles of the rounds' ratios):`,
  );
  out.push(
    table(
      ['norm', 'steps/s', 'runs', 'step time vs BN', 'quartiles'],
      record.norms.map((row) => [
        row.norm,
        stepsPerSecondCell(row.throughput),
        planText(row.throughput.plan),
        `${fixed(row.stepTimeVsBn, 3)}×`,
        quartileCell(row.stepTimeVsBnQuartiles),
      ]),
      ['left', 'right', 'right', 'right', 'right'],
    ),
  );

  out.push('');
  out.push('Targets:');
  out.push(
    table(
      ['target', 'wanted', 'measured', 'met'],
      record.targets.map((t) => [t.name, t.target, t.measured, t.met === null ? 'not measured' : t.met ? 'yes' : 'NO']),
      ['left', 'left', 'left', 'left'],
    ),
  );
  return out.join('\n');
}

/** "1.41-1.58×": the quartiles of a peer's per-round ratios. */
function quartileCell(quartiles: [number, number] | null): string {
  return quartiles ? `${quartiles[0].toFixed(2)}-${quartiles[1].toFixed(2)}×` : '-';
}
