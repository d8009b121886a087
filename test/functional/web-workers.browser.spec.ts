/// <reference lib="dom" />
import { describe, expect, it } from 'vitest';
import { chromiumAvailable, withChromium } from '../support/chromium.js';
import { startFunctionalServer } from './functional-app.js';

// Their WebWorkerTests.ts: the client's web worker bundle, in a worker of headless Chromium,
// connects to the test hub and receives a server call.

/** Their worker, word for word in behaviour; a failed start is reported rather than left to time out. */
const WORKER_SOURCE = `
  var connection = null;
  onmessage = function (e) {
    if (connection === null) {
      postMessage('initialized');
      importScripts(e.data + '/lib/signalr-webworker/signalr.js');
      connection = new signalR.HubConnectionBuilder().withUrl(e.data + '/testhub').build();
      connection.on('message', function (message) { postMessage('Received message: ' + message); });
      connection.start().then(
        function () { postMessage('connected'); },
        function (error) { postMessage('Failed to start: ' + error); });
    } else if (connection.state == signalR.HubConnectionState.Connected) {
      connection.invoke('invokeWithString', e.data);
    } else {
      postMessage('Attempted to send message while disconnected.');
    }
  };`;

describe.runIf(chromiumAvailable())('WebWorkers', () => {
  const suite = withChromium(() => startFunctionalServer('http'));

  it('can use SignalR client', async () => {
    const page = await (await suite.browser.newContext()).newPage();
    // A worker made from a blob has the page's origin, so the page comes from the server.
    await page.goto(suite.server.baseUrl);
    const received = await page.evaluate(
      ({ source, baseUrl, message }) =>
        new Promise<string>((resolve, reject) => {
          const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'application/javascript' })));
          // A worker's postMessage has no target origin: the rule is about window.postMessage.
          // oxlint-disable-next-line unicorn/require-post-message-target-origin
          const tell = (text: string) => worker.postMessage(text);
          worker.addEventListener('error', (event) => reject(new Error(event.message)));
          worker.addEventListener('message', (event: MessageEvent<string>) => {
            if (event.data === 'initialized') return;
            if (event.data === 'connected') return tell(message);
            worker.terminate();
            resolve(event.data);
          });
          tell(baseUrl);
        }),
      { source: WORKER_SOURCE, baseUrl: suite.server.baseUrl, message: 'Hello World!' },
    );
    expect(received).toBe('Received message: Hello World!');
  });
});
