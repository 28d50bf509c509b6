// The example app: an ordinary Node server. Nothing in it knows about the arbiter, except the
// optional named shutdown hook, which is a no-op when the app runs on its own.
const http = require('node:http');

let requests = 0;
const server = http.createServer((request, response) => {
  requests++;
  response.setHeader('content-type', 'text/plain; charset=utf-8');
  response.end(`Hello from worker pid ${process.pid} (request ${requests} of this worker)\n`);
});

globalThis.arbiter?.onShutdown('say goodbye', () => {
  console.log(`served ${requests} requests, goodbye`);
});

server.listen(process.env.PORT ?? 3000, () => {
  console.log(`listening on ${JSON.stringify(server.address())}`);
});
