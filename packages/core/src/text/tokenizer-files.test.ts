import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { fixturePath, fixtureVariant } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { describeTokenizerJson, readTokenizerFiles } from './tokenizer-files.js';

const temp = await mkdtemp(join(tmpdir(), 'ortvision-tokenizer-files-'));
afterAll(() => rm(temp, { recursive: true, force: true }));
let folders = 0;
/** A copy of a fixture with files removed (null) or replaced. */
const variant = (fixture: string, changes: Record<string, string | null>) =>
  fixtureVariant(fixture, join(temp, `${fixture}-${folders++}`), changes);

const clipTokenizerConfig = await readJsonObject(fixturePath('clipseg', 'tokenizer_config.json'));
/** clipseg's tokenizer_config.json with fields changed (undefined drops one). */
const clipConfig = (changes: Record<string, unknown>) =>
  JSON.stringify({ ...clipTokenizerConfig, ...changes });

describe('readTokenizerFiles chooses the source once, in the order transformers does', () => {
  it('reads tokenizer.json when the folder has one, even beside the slow files', async () => {
    const files = await readTokenizerFiles(fixturePath('clipseg'));
    expect(files.tokenizerJsonFrom).toBe('tokenizer.json');
    expect(files.tokenizerJson).toEqual(await readJsonObject(fixturePath('clipseg', 'tokenizer.json')));
    expect(describeTokenizerJson(files)).toBe(`${fixturePath('clipseg')}/tokenizer.json`);
  });

  it("builds it from the slow files of tokenizer_config.json's tokenizer_class when there is none", async () => {
    const clip = await readTokenizerFiles(await variant('clipseg', { 'tokenizer.json': null }));
    expect(clip.tokenizerJsonFrom).toBe('vocab.json + merges.txt');
    expect((clip.tokenizerJson.model as { type: string }).type).toBe('BPE');
    expect(describeTokenizerJson(clip)).toBe(
      `the tokenizer.json built from ${clip.source}/vocab.json + merges.txt`,
    );
    const xlmr = await readTokenizerFiles(await variant('altclip', { 'tokenizer.json': null }));
    expect(xlmr.tokenizerJsonFrom).toBe('sentencepiece.bpe.model');
    expect((xlmr.tokenizerJson.model as { type: string }).type).toBe('Unigram');
  });

  it("takes a fast class name as its slow class, and config.json's model_type when no class is named", async () => {
    const fast = await variant('clipseg', {
      'tokenizer.json': null,
      'tokenizer_config.json': clipConfig({ tokenizer_class: 'CLIPTokenizerFast' }),
    });
    expect((await readTokenizerFiles(fast)).tokenizerJsonFrom).toBe('vocab.json + merges.txt');
    // clipseg's config.json has model_type "clipseg", whose tokenizer is CLIPTokenizer
    const unnamed = await variant('clipseg', {
      'tokenizer.json': null,
      'tokenizer_config.json': clipConfig({ tokenizer_class: undefined }),
    });
    expect((await readTokenizerFiles(unnamed)).tokenizerJsonFrom).toBe('vocab.json + merges.txt');
  });

  it('says what is missing and what would do when neither tokenizer.json nor the slow files are there', async () => {
    const noMerges = await variant('clipseg', { 'tokenizer.json': null, 'merges.txt': null });
    await expect(readTokenizerFiles(noMerges)).rejects.toThrow(
      new ModelNotFoundError(
        `${noMerges} has no tokenizer.json, nor CLIPTokenizer's vocab.json + merges.txt to build it from (missing: merges.txt); either would do`,
      ),
    );
    const noModel = await variant('altclip', { 'tokenizer.json': null, 'sentencepiece.bpe.model': null });
    await expect(readTokenizerFiles(noModel)).rejects.toThrow(
      `${noModel} has no tokenizer.json, nor XLMRobertaTokenizer's sentencepiece.bpe.model to build it from (missing: sentencepiece.bpe.model); either would do`,
    );
    const bert = await variant('clipseg', {
      'tokenizer.json': null,
      'tokenizer_config.json': clipConfig({ tokenizer_class: 'BertTokenizer' }),
    });
    await expect(readTokenizerFiles(bert)).rejects.toThrow(
      new ModelNotFoundError(
        `${bert} has no tokenizer.json and has tokenizer_class BertTokenizer, which core cannot build from its slow files; add tokenizer.json, or the slow files of vocab.json + merges.txt (CLIPTokenizer) or sentencepiece.bpe.model (XLMRobertaTokenizer)`,
      ),
    );
    const nothing = await variant('clipseg', {
      'tokenizer.json': null,
      'tokenizer_config.json': null,
      'config.json': null,
    });
    await expect(readTokenizerFiles(nothing)).rejects.toThrow(
      `${nothing} has no tokenizer.json and names no tokenizer_class (tokenizer_config.json) or known model_type (config.json)`,
    );
  });
});

describe('readTokenizerFiles from a Hub repository without tokenizer.json', () => {
  it('downloads the slow files, then loads them offline from the cache', async () => {
    const folder = await variant('altclip', { 'tokenizer.json': null });
    const server = await HubServer.start({ repoId: 'ortvision/altclip-slow', folder });
    const cacheDir = join(temp, 'hub-cache');
    try {
      const options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5 };
      const files = await readTokenizerFiles('ortvision/altclip-slow', options);
      expect(files.tokenizerJsonFrom).toBe('sentencepiece.bpe.model');
      expect(files.tokenizerJson).toEqual(await readJsonObject(fixturePath('altclip', 'tokenizer.json')));
      const asked = server.requests.map((r) => r.url.split('/').at(-1));
      // The Hub's file list (asked once for the whole load) says there is no tokenizer.json: no request for it.
      expect(asked).not.toContain('tokenizer.json');
      expect(server.requests.filter((r) => r.url.startsWith('/api/models/'))).toHaveLength(1);
      expect(asked).toContain('sentencepiece.bpe.model');
      const requests = server.requests.length;
      const offline = await readTokenizerFiles('ortvision/altclip-slow', { cacheDir, localFilesOnly: true });
      expect(offline.tokenizerJson).toEqual(files.tokenizerJson);
      expect(server.requests.length).toBe(requests);
    } finally {
      await server.close();
    }
  });
});
