// An HTTP exchange as a span (semantic conventions for HTTP spans) and the low-cardinality
// attributes of its duration and body-size metrics.
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { InstrumentationScope } from '@opentelemetry/core';
import {
  ATTR_CLIENT_ADDRESS, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_NETWORK_PEER_ADDRESS, ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_PROTOCOL_VERSION, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_URL_FULL, ATTR_URL_PATH,
  ATTR_URL_QUERY, ATTR_URL_SCHEME, ATTR_USER_AGENT_ORIGINAL,
} from '../../semconv/attributes.ts';
import type { HttpExchange } from './decode.ts';
import { HttpFlag, HttpRole } from './http.layout.ts';
import { isKnownMethod, parseRequestHead, parseResponseHead, splitHost } from './parse.ts';
import type { PathTemplater } from './templater.ts';

/** Incubating: the template of a client request's path. */
export const ATTR_URL_TEMPLATE = 'url.template';
export const ERROR_CONNECTION_CLOSED = 'connection_closed';

export interface MappingOptions {
  templater: PathTemplater;
  captureQuery: boolean;
  captureUserAgent: boolean;
}

export interface MappedExchange {
  server: boolean;
  name: string;
  /** Attributes for the duration and body-size metrics (low cardinality). */
  metricAttributes: Attributes;
  spanAttributes: Attributes;
  error: boolean;
  requestBodySize: number | undefined;
  responseBodySize: number | undefined;
}

function hrDuration(start: HrTime, end: HrTime): HrTime {
  let s = end[0] - start[0], n = end[1] - start[1];
  if (n < 0) { s -= 1; n += 1e9; }
  if (s < 0) return [0, 0];
  return [s, n];
}

export function mapExchange(ex: HttpExchange, opts: MappingOptions): MappedExchange {
  const server = ex.role === HttpRole.HTTP_ROLE_SERVER;
  const req = parseRequestHead(ex.reqHead);
  const resp = ex.respHead ? parseResponseHead(ex.respHead) : undefined;
  const rawMethod = req?.method ?? '_OTHER';
  const method = isKnownMethod(rawMethod) ? rawMethod : '_OTHER';
  const path = req?.path || '/';
  const route = opts.templater.route(path);
  const template = route ?? opts.templater.template(path);
  const status = resp?.status ?? (ex.status || 0);
  const closed = (ex.flags & HttpFlag.HTTP_F_CLOSED) !== 0;
  const scheme = ex.flags & HttpFlag.HTTP_F_TLS ? 'https' : 'http';
  const version = req?.version || resp?.version || '1.1';

  const metricAttributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: method, [ATTR_URL_SCHEME]: scheme, [ATTR_NETWORK_PROTOCOL_VERSION]: version };
  if (status) metricAttributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
  let errorType: string | undefined;
  if (closed && !status) errorType = ERROR_CONNECTION_CLOSED;
  else if (status >= 500 || (!server && status >= 400)) errorType = String(status);
  else if (closed) errorType = ERROR_CONNECTION_CLOSED;
  if (errorType) metricAttributes[ATTR_ERROR_TYPE] = errorType;

  const host = req?.host ? splitHost(req.host) : undefined;
  const spanAttributes: Attributes = { ...metricAttributes, [ATTR_URL_PATH]: path };
  if (method === '_OTHER' && req) spanAttributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = rawMethod;
  if (opts.captureQuery && req?.query !== undefined) spanAttributes[ATTR_URL_QUERY] = req.query;
  if (opts.captureUserAgent && req?.userAgent) spanAttributes[ATTR_USER_AGENT_ORIGINAL] = req.userAgent;
  if (ex.peerAddress) spanAttributes[ATTR_NETWORK_PEER_ADDRESS] = ex.peerAddress;
  spanAttributes[ATTR_NETWORK_PEER_PORT] = ex.peerPort;

  if (server) {
    metricAttributes[ATTR_HTTP_ROUTE] = template;
    spanAttributes[ATTR_HTTP_ROUTE] = template;
    spanAttributes[ATTR_SERVER_ADDRESS] = host?.host ?? ex.localAddress ?? '';
    spanAttributes[ATTR_SERVER_PORT] = host?.port ?? ex.localPort;
    if (ex.peerAddress) spanAttributes[ATTR_CLIENT_ADDRESS] = ex.peerAddress;
    metricAttributes[ATTR_SERVER_PORT] = ex.localPort;
  } else {
    const serverAddress = host?.host ?? ex.peerAddress ?? '';
    const serverPort = host?.port ?? ex.peerPort;
    metricAttributes[ATTR_URL_TEMPLATE] = template;
    metricAttributes[ATTR_SERVER_ADDRESS] = serverAddress;
    metricAttributes[ATTR_SERVER_PORT] = serverPort;
    Object.assign(spanAttributes, metricAttributes);
    const authority = serverAddress.includes(':') ? `[${serverAddress}]` : serverAddress;
    spanAttributes[ATTR_URL_FULL] = `${scheme}://${authority}:${serverPort}${path}${opts.captureQuery && req?.query !== undefined ? `?${req.query}` : ''}`;
  }
  return {
    server,
    name: method === '_OTHER' ? 'HTTP' : `${method} ${template}`,
    metricAttributes,
    spanAttributes,
    error: errorType !== undefined,
    requestBodySize: ex.reqHdrEnd ? Math.max(0, ex.reqBytes - ex.reqHdrEnd) : undefined,
    responseBodySize: ex.respHdrEnd ? Math.max(0, ex.respBytes - ex.respHdrEnd) : undefined,
  };
}

export function exchangeSpan(ex: HttpExchange, m: MappedExchange, startTime: HrTime, endTime: HrTime, resource: Resource, scope: InstrumentationScope): ReadableSpan {
  const ctx: SpanContext = { traceId: ex.traceId, spanId: ex.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
  let parentSpanContext: SpanContext | undefined;
  if (ex.parentId) {
    parentSpanContext = {
      traceId: ex.traceId, spanId: ex.parentId, traceFlags: TraceFlags.SAMPLED,
      isRemote: (ex.flags & HttpFlag.HTTP_F_REMOTE_PARENT) !== 0,
    };
  }
  return {
    name: m.name,
    kind: m.server ? SpanKind.SERVER : SpanKind.CLIENT,
    spanContext: () => ctx,
    parentSpanContext,
    startTime,
    endTime,
    status: m.error ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.UNSET },
    attributes: m.spanAttributes,
    links: [],
    events: [],
    duration: hrDuration(startTime, endTime),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
