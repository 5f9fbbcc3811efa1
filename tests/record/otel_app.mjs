// An app traced by the OpenTelemetry JS SDK, exporting with the OTLP exporter that
// OTEL_EXPORTER_OTLP_PROTOCOL names (http/json: exporter-trace-otlp-http, else
// exporter-trace-otlp-proto), which reads its endpoint from the environment `traces
// record` sets. Writes what it sent to LEDGER: {trace_id: {spans, input, output}}.
//
//     node otel_app.mjs LEDGER
import { writeFileSync } from "node:fs";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";

const json = process.env.OTEL_EXPORTER_OTLP_PROTOCOL === "http/json";
const { OTLPTraceExporter } = json
  ? await import("@opentelemetry/exporter-trace-otlp-http")
  : await import("@opentelemetry/exporter-trace-otlp-proto");
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "record-test-js" }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
const tracer = provider.getTracer("record-test-js");
const ledger = {};
for (let t = 0; t < 3; t++) {
  const root = tracer.startSpan(`js job ${t}`);
  const tid = root.spanContext().traceId;
  const ctx = (await import("@opentelemetry/api")).trace.setSpan(
    (await import("@opentelemetry/api")).context.active(), root);
  const entry = { spans: 3, input: 0, output: 0 };
  for (let c = 0; c < 2; c++) {
    const s = tracer.startSpan("chat gpt-4o-mini", {}, ctx);
    const inp = 500 + 7 * t + c, out = 20 + t + c;
    s.setAttribute("gen_ai.operation.name", "chat");
    s.setAttribute("gen_ai.request.model", "gpt-4o-mini");
    s.setAttribute("gen_ai.usage.input_tokens", inp);
    s.setAttribute("gen_ai.usage.output_tokens", out);
    s.end();
    entry.input += inp;
    entry.output += out;
  }
  root.end();
  ledger[tid] = entry;
}
await provider.shutdown();
writeFileSync(process.argv[2], JSON.stringify(ledger));
