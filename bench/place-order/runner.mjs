/**
 * The load generator of bench/place-order.bench.ts, in a process of its own so that the load
 * does not share the API's process (and its CPU accounting). It runs autocannon through its API
 * against one GraphQL operation for a fixed duration and reports on stdout, one JSON object a
 * line:
 *
 *   {"type":"start"}                                   autocannon started its connections
 *   {"type":"progress","seconds":…,"responses":…,…}    every progressSeconds
 *   {"type":"result",…}                                at the end (then it exits 0)
 *
 * Every response body is read: an answer counts as `ok` only when it is HTTP 2xx without
 * GraphQL errors and with the expected data (placeOrder: status PLACED; benchNoop: true). With
 * `keyPrefix`, each request gets its own input.idempotencyKey (`<keyPrefix>-<n>`) through
 * autocannon's setupRequest, so every request is a new order.
 *
 * Its only argument is a JSON object:
 *   { url, token, query, variables, expect: "placeOrder" | "benchNoop", keyPrefix?: string,
 *     connections, durationSeconds, timeoutSeconds, progressSeconds }
 */
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
for (const key of ['url', 'token', 'query', 'expect', 'connections', 'durationSeconds', 'timeoutSeconds', 'progressSeconds']) {
  if (options[key] === undefined) {
    process.stderr.write(`runner.mjs: option "${key}" is missing\n`);
    process.exit(2);
  }
}

const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const MAX_PROBLEMS = 5;

let ok = 0;
let graphqlErrors = 0;
let wrongAnswers = 0;
let httpErrors = 0;
const problems = [];
const note = (problem) => {
  if (problems.length < MAX_PROBLEMS) problems.push(problem.slice(0, 500));
};

function check(status, body) {
  if (status < 200 || status > 299) {
    httpErrors += 1;
    note(`HTTP ${status}: ${body}`);
    return;
  }
  let answer;
  try {
    answer = JSON.parse(body);
  } catch {
    wrongAnswers += 1;
    note(`not JSON: ${body}`);
    return;
  }
  if (answer.errors?.length) {
    graphqlErrors += 1;
    note(`GraphQL error: ${JSON.stringify(answer.errors[0])}`);
    return;
  }
  const good = options.expect === 'placeOrder' ? answer.data?.placeOrder?.status === 'PLACED' : answer.data?.benchNoop === true;
  if (good) ok += 1;
  else {
    wrongAnswers += 1;
    note(`unexpected answer: ${body}`);
  }
}

let sent = 0;
const bodyOf = (variables) => JSON.stringify({ query: options.query, variables });
const request = {
  method: 'POST',
  path: new URL(options.url).pathname,
  headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
  body: bodyOf(options.variables ?? {}),
  onResponse: (status, body) => check(status, body),
};
if (options.keyPrefix) {
  // Called for every request: a fresh idempotency key each time (the counter is this process's).
  request.setupRequest = (req) => {
    sent += 1;
    const variables = structuredClone(options.variables);
    variables.input.idempotencyKey = `${options.keyPrefix}-${sent}`;
    return { ...req, body: bodyOf(variables) };
  };
}

const latenciesMs = [];
const cpuAtStart = process.cpuUsage();
const instance = autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationSeconds,
  timeout: options.timeoutSeconds,
  requests: [request],
});

let responses = 0;
let errors = 0;
let startedAt = 0;
instance.on('start', () => {
  startedAt = Date.now();
  emit({ type: 'start' });
});
instance.on('response', (_client, _status, _bytes, responseTimeMs) => {
  responses += 1;
  latenciesMs.push(Math.round(responseTimeMs * 100) / 100);
});
instance.on('reqError', () => (errors += 1));
const progress = setInterval(() => {
  emit({ type: 'progress', seconds: Math.round((Date.now() - startedAt) / 100) / 10, responses, ok, notOk: httpErrors + graphqlErrors + wrongAnswers, errors });
}, options.progressSeconds * 1000);

instance.then(
  (result) => {
    clearInterval(progress);
    const cpu = process.cpuUsage(cpuAtStart);
    emit({
      type: 'result',
      durationSeconds: result.duration,
      requestsSent: result.requests.sent,
      responses,
      ok,
      httpErrors,
      graphqlErrors,
      wrongAnswers,
      non2xx: result.non2xx,
      statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
      errors: result.errors,
      timeouts: result.timeouts,
      problems,
      autocannon: { requestsPerSecondAverage: result.requests.average, latencyMs: { p50: result.latency.p50, p97_5: result.latency.p97_5, p99: result.latency.p99, max: result.latency.max } },
      runnerCpuMs: Math.round((cpu.user + cpu.system) / 1000),
      latenciesMs,
    });
    process.exit(0);
  },
  (error) => {
    clearInterval(progress);
    process.stderr.write(`autocannon failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  },
);
