package org.xsm.server.rpc;

import java.util.List;

/**
 * One decoded call, whatever the transport.
 *
 * @param method e.g. {@code VM.get_all} or {@code Async.VDI.snapshot}
 * @param params the positional parameters as plain Java values: String, Long, Double, Boolean,
 *     java.time.Instant, Map&lt;String,Object&gt;, List&lt;Object&gt;
 * @param jsonRpcVersion 0 for XML-RPC, 1 or 2 for JSON-RPC
 * @param id the JSON-RPC id (echoed back), or null
 */
public record RpcRequest(String method, List<Object> params, int jsonRpcVersion, Object id) {}
