/**
 * The one page: plain HTML with inline script, so there is no build step. It posts the image bytes to
 * `/api/run?task=...&prompts=...` and shows the returned picture and JSON.
 */
export const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ortvision</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
  #drop { border: 2px dashed #888; border-radius: 8px; padding: 1.5rem; text-align: center; cursor: pointer; }
  #drop.over { background: #eef6ff; border-color: #0072b2; }
  #drop img { max-height: 8rem; display: block; margin: .5rem auto 0; }
  form { display: grid; gap: .75rem; }
  .row { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  #prompts { flex: 1; min-width: 16rem; padding: .4rem; }
  #result { max-width: 100%; margin-top: 1rem; }
  #json { background: #f5f5f5; padding: 1rem; overflow: auto; max-height: 30rem; }
  #error { color: #b00020; }
  .note { color: #555; font-size: .9rem; }
</style>
</head>
<body>
<h1>ortvision</h1>
<p class="note">Runs on this machine with the models the server was started with (by default tiny fixtures with random
weights, except the handwritten-digit classifier: the pipeline is real, the detections and masks mean nothing).</p>
<form id="form">
  <label id="drop" for="file">Drop an image here or click to choose one
    <input id="file" type="file" accept="image/*" hidden>
    <img id="preview" alt="" hidden>
  </label>
  <div class="row">
    <label>Task
      <select id="task">
        <option value="classify">classify (ViT)</option>
        <option value="detect">detect (OWLv2)</option>
        <option value="segment">segment (CLIPSeg with prompts, else Mask2Former)</option>
        <option value="zero-shot">zero-shot (AltCLIP)</option>
      </select>
    </label>
    <input id="prompts" placeholder="prompts, comma-separated: a cat, a remote control">
    <button id="run" type="submit">Run</button>
  </div>
</form>
<p id="status" class="note"></p>
<p id="error" role="alert"></p>
<img id="result" alt="result" hidden>
<pre id="json" hidden></pre>
<script>
  const $ = (id) => document.getElementById(id);
  let chosen = null;
  function choose(file) {
    if (!file) return;
    chosen = file;
    $('preview').src = URL.createObjectURL(file);
    $('preview').hidden = false;
  }
  $('file').addEventListener('change', () => choose($('file').files[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    choose(e.dataTransfer.files[0]);
  });
  $('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    // A new run replaces the last one: an error must not leave the previous picture and JSON on screen.
    $('error').textContent = '';
    $('result').hidden = true;
    $('result').removeAttribute('src');
    $('json').hidden = true;
    $('json').textContent = '';
    if (!chosen) { $('error').textContent = 'Choose an image first.'; return; }
    const query = new URLSearchParams({ task: $('task').value, prompts: $('prompts').value });
    $('run').disabled = true;
    $('status').textContent = 'Running ' + $('task').value + '...';
    try {
      const response = await fetch('/api/run?' + query, {
        method: 'POST',
        headers: { 'content-type': chosen.type || 'application/octet-stream' },
        body: chosen,
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      $('result').src = answer.picture;
      $('result').hidden = false;
      $('json').textContent = JSON.stringify(answer.result, null, 2);
      $('json').hidden = false;
      $('status').textContent = answer.task + ' took ' + answer.ms + ' ms';
    } catch (error) {
      $('error').textContent = error.message;
      $('status').textContent = '';
    } finally {
      $('run').disabled = false;
    }
  });
</script>
</body>
</html>
`;
