import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// An OTLP/HTTP trace receiver on 127.0.0.1: it accepts POST /v1/traces in JSON (http/json) and in
// protobuf (http/protobuf), decodes both into one shape, and keeps the raw bodies too (to look for what
// must never be exported).

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  // OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  // OTLP StatusCode: 0 unset, 1 ok, 2 error.
  readonly statusCode: number;
  readonly serviceName: string | undefined;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly contentTypes: string[];
  readonly rawBodies: string[];
  clear(): void;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const rawBodies: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.method !== "POST" || request.url !== "/v1/traces") {
        response.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const type = String(request.headers["content-type"] ?? "");
      contentTypes.push(type);
      rawBodies.push(body.toString("latin1"));
      try {
        spans.push(
          ...(type.includes("json") ? fromJson(JSON.parse(body.toString("utf8"))) : fromProtobuf(body)),
        );
      } catch (error) {
        response.writeHead(400).end(String(error));
        return;
      }
      response.writeHead(200, { "content-type": type }).end(type.includes("json") ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    rawBodies,
    clear: () => {
      spans.length = 0;
      contentTypes.length = 0;
      rawBodies.length = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- http/json -------------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}

function fromJson(request: any): ReceivedSpan[] {
  const result: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        result.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? "",
          name: span.name,
          kind: span.kind,
          attributes: jsonAttributes(span.attributes),
          statusCode: span.status?.code ?? 0,
          serviceName: resource["service.name"] as string | undefined,
        });
      }
    }
  }
  return result;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, jsonValue(value)]));
}

function jsonValue(value: JsonAnyValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

// --- http/protobuf: just enough of the wire format for opentelemetry/proto/trace/v1 ------------------

type Field = { readonly number: number; readonly wire: number; readonly value: bigint | Buffer };

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[at++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const tag = Number(varint());
    const number = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) result.push({ number, wire, value: varint() });
    else if (wire === 1) {
      result.push({ number, wire, value: buffer.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      result.push({ number, wire, value: buffer.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      result.push({ number, wire, value: buffer.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return result;
}

const bytesOf = (field: Field | undefined) => (field ? (field.value as Buffer) : Buffer.alloc(0));
const find = (list: Field[], number: number) => list.find((field) => field.number === number);
const all = (list: Field[], number: number) => list.filter((field) => field.number === number);

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const result: ReceivedSpan[] = [];
  for (const resourceSpans of all(fields(body), 1)) {
    const parts = fields(bytesOf(resourceSpans));
    const resource = protoAttributes(all(fields(bytesOf(find(parts, 1))), 1));
    for (const scopeSpans of all(parts, 2)) {
      for (const spanField of all(fields(bytesOf(scopeSpans)), 2)) {
        const span = fields(bytesOf(spanField));
        const status = fields(bytesOf(find(span, 15)));
        result.push({
          traceId: bytesOf(find(span, 1)).toString("hex"),
          spanId: bytesOf(find(span, 2)).toString("hex"),
          parentSpanId: bytesOf(find(span, 4)).toString("hex"),
          name: bytesOf(find(span, 5)).toString("utf8"),
          kind: Number(find(span, 6)?.value ?? 0n),
          attributes: protoAttributes(all(span, 9)),
          statusCode: Number(find(status, 3)?.value ?? 0n),
          serviceName: resource["service.name"] as string | undefined,
        });
      }
    }
  }
  return result;
}

function protoAttributes(list: Field[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const field of list) {
    const keyValue = fields(bytesOf(field));
    result[bytesOf(find(keyValue, 1)).toString("utf8")] = protoValue(fields(bytesOf(find(keyValue, 2))));
  }
  return result;
}

function protoValue(value: Field[]): unknown {
  const [field] = value;
  if (!field) return undefined;
  switch (field.number) {
    case 1:
      return (field.value as Buffer).toString("utf8");
    case 2:
      return field.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, field.value as bigint));
    case 4:
      return (field.value as Buffer).readDoubleLE(0);
    case 5:
      return all(fields(field.value as Buffer), 1).map((item) => protoValue(fields(item.value as Buffer)));
    default:
      return undefined;
  }
}
