import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/tensor.js';
import { compareTensors, describeComparison } from '../testing/compare.js';
import { fixturesRoot } from '../testing/fixtures.js';
import { type Fixture, loadFixture } from '../testing/manifest.js';
import { readNpy } from '../testing/npy.js';
import { loadGraph } from './graph.js';
import { PreTrainedModel } from './pretrained-model.js';

// Every fixture folder (one with reference/manifest.json) in fixtures/.
const fixtureNames = readdirSync(fixturesRoot(), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'images')
  .map((entry) => entry.name)
  .sort();

async function readFeeds(fixture: Fixture, files: Record<string, string>): Promise<Record<string, Tensor>> {
  const entries = await Promise.all(
    Object.entries(files).map(
      async ([name, file]) => [name, await readNpy(join(fixture.dir, file))] as const,
    ),
  );
  return Object.fromEntries(entries);
}

async function checkCases(
  fixture: Fixture,
  run: (graph: string, feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>,
) {
  const failures: string[] = [];
  for (const testCase of fixture.manifest.model) {
    const outputs = await run(testCase.graph, await readFeeds(fixture, testCase.feeds));
    for (const [name, file] of Object.entries(testCase.expected)) {
      const expected = await readNpy(join(fixture.dir, file));
      const actual = outputs[name];
      if (!actual) {
        failures.push(`${testCase.name}: no output '${name}'`);
        continue;
      }
      const comparison = compareTensors(actual, expected, {
        atol: testCase.atol ?? 0,
        rtol: testCase.rtol ?? 0,
      });
      if (!comparison.ok) failures.push(`${testCase.name}.${name}: ${describeComparison(comparison)}`);
    }
  }
  expect(failures).toEqual([]);
}

describe('every model case of every fixture', () => {
  it('finds the fixtures', () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(19);
  });

  for (const name of fixtureNames) {
    it(`${name}: through PreTrainedModel.fromPretrained`, async () => {
      const fixture = await loadFixture(join(fixturesRoot(), name));
      expect(fixture.manifest.model.length).toBeGreaterThan(0);
      // The manifest's graphs as a model class would declare them: onnx/<name>.onnx -> { <name>: '<name>' }.
      const graphs = Object.fromEntries(
        Object.keys(fixture.manifest.graphs).map((file) => {
          const base = /^onnx\/(.+)\.onnx$/.exec(file)?.[1] ?? file;
          return [base, base];
        }),
      );
      class FixtureModel extends PreTrainedModel {
        static override readonly graphs = graphs;
      }
      const model = await FixtureModel.fromPretrained(fixture.dir, {
        sessionOptions: { intraOpNumThreads: 1 },
      });
      try {
        expect(model.config.model_type).toBe(fixture.manifest.model_type);
        await checkCases(fixture, (graph, feeds) =>
          model.runGraph(/^onnx\/(.+)\.onnx$/.exec(graph)![1]!, feeds),
        );
      } finally {
        await model.dispose();
      }
    });

    it(`${name}: through loadGraph`, async () => {
      const fixture = await loadFixture(join(fixturesRoot(), name));
      const sessions = new Map<string, Awaited<ReturnType<typeof loadGraph>>>();
      try {
        await checkCases(fixture, async (graph, feeds) => {
          let session = sessions.get(graph);
          if (!session) {
            session = await loadGraph(fixture.dir, graph, { sessionOptions: { intraOpNumThreads: 1 } });
            sessions.set(graph, session);
          }
          return session.run(feeds);
        });
      } finally {
        await Promise.all([...sessions.values()].map((session) => session.dispose()));
      }
    });
  }
});
