// The "app" for the aisdk suite: Vercel AI SDK calls against the local fake OpenAI server,
// traced by the OpenTelemetry JS SDK (NodeTracerProvider + BatchSpanProcessor +
// OTLPTraceExporter (protobuf) -> receiver.py).
//
// Started by run.py (do not run by hand unless you start the servers yourself):
//   AISDK_MAJOR=4|7 AISDK_NODE_DIR=/tmp/llm-node/aisdk4 FAKE_BASE_URL=http://127.0.0.1:P/v1 \
//   OTLP_ENDPOINT=http://127.0.0.1:Q node app.mjs [scenario,...]
//
// ai 4.x: experimental_telemetry {isEnabled, functionId, metadata: {sessionId, userId}}.
// ai 7.x: registerTelemetry(new OpenTelemetry({runtimeContext: true})) from @ai-sdk/otel;
//         session/user through runtimeContext + telemetry.includeRuntimeContext.
//
// Ledger headers (X-Scenario, X-Trace-Name, X-Session-Id, X-User-Id) and X-App-Traceparent
// are added by a custom `fetch` given to createOpenAI, NOT through the call's `headers`
// option: ai 4 records every `headers` entry as an `ai.request.headers.*` span attribute,
// and we do not want our ledger headers to appear in the dump. X-App-Traceparent is the
// W3C traceparent of the OTel context active when the HTTP request is made
// (propagation.inject(context.active())), i.e. the SDK's model-call span, in the trace of
// the scenario's root span.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const MAJOR = Number(process.env.AISDK_MAJOR);
const NODE_DIR = process.env.AISDK_NODE_DIR;
const BASE_URL = process.env.FAKE_BASE_URL;
const OTLP = process.env.OTLP_ENDPOINT;
const SDK_NAME = process.env.AISDK_NAME || `aisdk${MAJOR}`;
const req = createRequire(NODE_DIR + '/package.json');
const imp = (name) => import(pathToFileURL(req.resolve(name)).href);

const otelApi = await imp('@opentelemetry/api');
const { trace, context, propagation } = otelApi;
const { NodeTracerProvider } = await imp('@opentelemetry/sdk-trace-node');
const { BatchSpanProcessor } = await imp('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = await imp('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = await imp('@opentelemetry/resources');
const ai = await imp('ai');
const { createOpenAI } = await imp('@ai-sdk/openai');
const { z } = await imp('zod');

// ------------------------------------------------------------------ OTel setup
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({
    'service.name': 'llm-app-' + SDK_NAME,
    'service.version': '1.0.0',
    'deployment.environment': 'test',
    'service.instance.id': 'llm-app-' + SDK_NAME + '-test-1',
  }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: OTLP + '/v1/traces' }))],
});
provider.register(); // global tracer provider, AsyncLocalStorage context manager, W3C propagator
const appTracer = trace.getTracer('llm-testdata.app');

let otelIntegration = null;
if (MAJOR >= 5) {
  const { OpenTelemetry } = await imp('@ai-sdk/otel');
  const opts = JSON.parse(process.env.AISDK_OTEL_OPTIONS || '{"runtimeContext": true}');
  otelIntegration = new OpenTelemetry(opts);
  ai.registerTelemetry(otelIntegration);
}

// ------------------------------------------------------------------ provider with ledger headers
let current = null; // {scenario, traceName, sessionId, userId}; scenarios run one after the other
const ledgerFetch = async (url, init = {}) => {
  const headers = new Headers(init.headers || {});
  if (current) {
    headers.set('X-Scenario', current.scenario);
    headers.set('X-Trace-Name', current.traceName);
    if (current.sessionId) headers.set('X-Session-Id', current.sessionId);
    if (current.userId) headers.set('X-User-Id', current.userId);
  }
  const carrier = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent) headers.set('X-App-Traceparent', carrier.traceparent);
  return fetch(url, { ...init, headers });
};

const openai =
  MAJOR >= 5
    ? createOpenAI({ baseURL: BASE_URL, apiKey: 'sk-fake', fetch: ledgerFetch })
    : createOpenAI({ baseURL: BASE_URL, apiKey: 'sk-fake', compatibility: 'strict', fetch: ledgerFetch });
const CHAT_MODEL = 'gpt-4o-mini';
const RESP_MODEL = 'gpt-4.1-mini';

const weatherTool = () => {
  const schema = z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() });
  const execute = async ({ city, unit }) => ({ city, unit: unit || 'celsius', temperature: 18, sky: 'sunny' });
  const description = 'Get the current weather for a city';
  return MAJOR >= 5
    ? ai.tool({ description, inputSchema: schema, execute })
    : ai.tool({ description, parameters: schema, execute });
};

// Options common to every call: telemetry (the SDK's documented way) + steps + no retries.
function callOptions({ functionId, sessionId, userId, steps }) {
  const o = { maxRetries: 0 };
  const meta = {};
  if (sessionId) meta.sessionId = sessionId;
  if (userId) meta.userId = userId;
  if (MAJOR >= 5) {
    o.runtimeContext = meta;
    o.telemetry = {
      isEnabled: true,
      functionId,
      includeRuntimeContext: Object.fromEntries(Object.keys(meta).map((k) => [k, true])),
    };
    if (steps) o.stopWhen = ai.stepCountIs(steps);
  } else {
    o.experimental_telemetry = { isEnabled: true, functionId, metadata: meta };
    if (steps) o.maxSteps = steps;
  }
  return o;
}

async function inTrace(scenario, traceName, sessionId, userId, fn) {
  current = { scenario, traceName, sessionId, userId };
  // The app's own root span (no session/user attributes on it: those are set the AI SDK way).
  await appTracer.startActiveSpan(traceName, async (span) => {
    try {
      await fn({ functionId: traceName, sessionId, userId });
    } catch (e) {
      span.recordException(e);
      span.setStatus({ code: otelApi.SpanStatusCode.ERROR, message: String(e.message || e) });
      console.error(`[${scenario}] error (expected only for the api_error scenario):`, e.message || e);
    } finally {
      span.end();
    }
  });
  current = null;
}

// ------------------------------------------------------------------ scenarios
const SCENARIOS = {
  async '01_generate_text'() {
    await inTrace('01_generate_text', '01_generate_text', null, null, async (t) => {
      const r = await ai.generateText({ model: openai.chat(CHAT_MODEL), prompt: 'Say hello in one sentence.', ...callOptions(t) });
      console.error('  ->', r.text);
    });
  },
  async '02_tool_steps'() {
    await inTrace('02_tool_steps', '02_tool_steps', 'sess-02-tools', 'user-alice', async (t) => {
      const r = await ai.generateText({
        model: openai.chat(CHAT_MODEL),
        prompt: 'What is the weather in Paris?',
        tools: { get_weather: weatherTool() },
        ...callOptions({ ...t, steps: 3 }),
      });
      console.error('  ->', r.steps.length, 'steps:', r.text);
    });
  },
  async '03_stream_text'() {
    await inTrace('03_stream_text', '03_stream_text', 'sess-03-stream', 'user-alice', async (t) => {
      const r = ai.streamText({ model: openai.chat(CHAT_MODEL), prompt: 'Tell me a short story.', ...callOptions(t) });
      let text = '';
      for await (const d of r.textStream) text += d;
      await r.usage;
      console.error('  ->', text);
    });
  },
  async '04_shared_session'() {
    for (const suffix of ['a', 'b']) {
      const name = '04_shared_session_' + suffix;
      await inTrace('04_shared_session', name, 'sess-04-shared', 'user-bob', async (t) => {
        const r = await ai.generateText({ model: openai.chat(CHAT_MODEL), prompt: `Question ${suffix}: what is 2+2?`, ...callOptions(t) });
        console.error('  ->', r.text);
      });
    }
  },
  async '05_responses_generate'() {
    await inTrace('05_responses_generate', '05_responses_generate', 'sess-05-responses', 'user-alice', async (t) => {
      const r = await ai.generateText({ model: openai.responses(RESP_MODEL), prompt: 'Say hello via the Responses API.', ...callOptions(t) });
      console.error('  ->', r.text);
    });
  },
  async '06_responses_tool_steps'() {
    await inTrace('06_responses_tool_steps', '06_responses_tool_steps', 'sess-06-responses-tools', 'user-alice', async (t) => {
      const r = await ai.generateText({
        model: openai.responses(RESP_MODEL),
        prompt: 'What is the weather in Paris? Use the tool.',
        tools: { get_weather: weatherTool() },
        ...callOptions({ ...t, steps: 3 }),
      });
      console.error('  ->', r.steps.length, 'steps:', r.text);
    });
  },
  async '07_stream_tool_steps'() {
    await inTrace('07_stream_tool_steps', '07_stream_tool_steps', 'sess-07-stream-tools', 'user-alice', async (t) => {
      const r = ai.streamText({
        model: openai.chat(CHAT_MODEL),
        prompt: 'What is the weather in Paris? Stream the answer.',
        tools: { get_weather: weatherTool() },
        ...callOptions({ ...t, steps: 3 }),
      });
      let text = '';
      for await (const d of r.textStream) text += d;
      await r.usage;
      console.error('  ->', text);
    });
  },
  async '08_api_error'() {
    await inTrace('08_api_error', '08_api_error', 'sess-08-error', 'user-alice', async (t) => {
      await ai.generateText({ model: openai.chat(CHAT_MODEL), prompt: 'Please TRIGGER_ERROR now.', ...callOptions(t) });
    });
  },
};

const only = (process.argv[2] || '').split(',').filter(Boolean);
for (const [name, fn] of Object.entries(SCENARIOS)) {
  if (only.length && !only.some((o) => name.includes(o))) continue;
  console.error('scenario', name);
  await fn();
}
await provider.forceFlush();
await provider.shutdown();
console.error('done');
