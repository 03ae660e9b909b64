// The standard OpenTelemetry variables the service reads (the rest of the SDK's own are not consulted).
export const otelVariables: readonly string[] = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_EXPORTER_OTLP_PROTOCOL",
  "OTEL_SERVICE_NAME",
  "OTEL_TRACES_SAMPLER_ARG",
  "OTEL_SDK_DISABLED",
];

// monitoring.otel as the variables set it; each overrides the config file's value. The schema then checks
// the values (a URL, a known protocol, a ratio between 0 and 1).
export function otelFromEnv(
  env: NodeJS.ProcessEnv,
  invalid: (problem: string) => Error,
): Record<string, unknown> {
  const value = (name: string) => {
    const given = env[name]?.trim();
    return given === undefined || given === "" ? undefined : given;
  };
  const otel: Record<string, unknown> = {};
  const endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (endpoint) otel.endpoint = endpoint;
  const tracesEndpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (tracesEndpoint) otel.tracesEndpoint = tracesEndpoint;
  const headers = value("OTEL_EXPORTER_OTLP_HEADERS");
  if (headers) otel.headers = parseHeaders(headers, invalid);
  const protocol = value("OTEL_EXPORTER_OTLP_PROTOCOL");
  if (protocol) otel.protocol = protocol;
  const serviceName = value("OTEL_SERVICE_NAME");
  if (serviceName) otel.serviceName = serviceName;
  const ratio = value("OTEL_TRACES_SAMPLER_ARG");
  if (ratio) otel.sampleRatio = Number(ratio);
  if (value("OTEL_SDK_DISABLED")?.toLowerCase() === "true") otel.enabled = false;
  return otel;
}

// "key1=value1,key2=value2", values percent-encoded (the OTLP exporter specification's format).
function parseHeaders(text: string, invalid: (problem: string) => Error): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const at = pair.indexOf("=");
    const key = at > 0 ? pair.slice(0, at).trim() : "";
    if (key === "") {
      throw invalid("OTEL_EXPORTER_OTLP_HEADERS: each entry must be key=value, separated by commas");
    }
    const raw = pair.slice(at + 1).trim();
    try {
      headers[key] = decodeURIComponent(raw);
    } catch {
      headers[key] = raw;
    }
  }
  return headers;
}
