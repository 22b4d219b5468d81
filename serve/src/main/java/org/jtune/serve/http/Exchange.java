package org.jtune.serve.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;
import org.jtune.serve.api.ApiError;

/**
 * One HTTP request and its answer, in blocking style for a request thread (a virtual thread): read the
 * body under a size limit, write a whole answer, or write server-sent events one by one. A write that
 * fails means the client went away: it throws {@link ClientGone}; so does the connection failing while
 * the request waits, which also runs the {@link #onClientGone} actions at once (cancelling generation).
 */
final class Exchange {
    /** At most this much of an unused body is read and dropped before a refusal is answered (Tomcat swallows 2 MiB). */
    static final long DRAIN_BYTES = 2L << 20;

    /** The client closed the connection (or it failed) before the answer was complete. */
    static final class ClientGone extends IOException {
        ClientGone(Throwable cause) {
            super("the client went away", cause);
        }
    }

    final Request request;
    final Response response;
    private final Callback callback;
    private final CopyOnWriteArrayList<Runnable> goneActions = new CopyOnWriteArrayList<>();
    private volatile boolean gone;
    private boolean pipelined;
    private boolean bodyOpened;
    private boolean bodyRead;
    private boolean done;
    private int status;

    Exchange(Request request, Response response, Callback callback) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        request.addFailureListener(t -> clientGone());
    }

    /** Runs {@code action} when the client goes away (at once if it already has). */
    void onClientGone(Runnable action) {
        goneActions.add(action);
        if (gone) action.run();
    }

    boolean isClientGone() {
        return gone;
    }

    /**
     * Checks, without blocking, whether the client has closed its side while the request waits for an
     * answer that has not started (a non-streaming completion). Jetty reads nothing from a connection
     * while its request is being handled, so a closed connection shows only on the next write; this
     * reads at most one byte with a non-blocking read: end of stream means the client left (the
     * {@link #onClientGone} actions run). A byte read would be the start of a pipelined request, which
     * cannot be put back: the connection is then closed after this answer, and probing stops. Call it
     * only after the whole body was read and before anything is written.
     */
    boolean probeClientGone() {
        if (gone) return true;
        if (pipelined) return false;
        try {
            org.eclipse.jetty.io.EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
            ByteBuffer one = org.eclipse.jetty.util.BufferUtil.allocate(1);
            int n = endPoint.fill(one);
            if (n < 0) {
                clientGone();
                return true;
            }
            if (n > 0) {
                pipelined = true;
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
            }
            return false;
        } catch (IOException | RuntimeException e) {
            clientGone();
            return true;
        }
    }

    private void clientGone() {
        gone = true;
        for (Runnable r : goneActions) r.run();
    }

    String header(HttpHeader h) {
        return request.getHeaders().get(h);
    }

    /** A query parameter's first value, or null. */
    String query(String name) {
        return org.eclipse.jetty.server.Request.extractQueryParameters(request).getValue(name);
    }

    /**
     * The body, at most {@code limit} bytes; 413 beyond (the rest is read and dropped, see {@link #drain}). A body left
     * unread is never closed here: closing Jetty's stream before the end fails the request, and the answer then finds the
     * client "gone" (a 413 became a 500).
     */
    byte[] body(long limit) throws ApiError, IOException {
        long declared = request.getLength();
        if (declared > limit && declared > DRAIN_BYTES) throw ApiError.tooLarge(limit); // unread: answered with Connection: close
        bodyOpened = true;
        InputStream in = Request.asInputStream(request);
        if (declared > limit) {
            bodyRead = drain(in);
            throw ApiError.tooLarge(limit);
        }
        byte[] b = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
        if (b.length > limit) {
            bodyRead = drain(in);
            throw ApiError.tooLarge(limit);
        }
        bodyRead = true;
        in.close();
        return b;
    }

    /**
     * Reads and drops what is left of a body that will not be used (a refused key, a body over the limit), up to
     * {@link #DRAIN_BYTES}: a client still sending its body then reads the answer. Closing a connection with unread
     * bytes makes the kernel reset it, and the reset can discard the answer before the client reads it. True when the
     * body was read to its end (the stream is then closed and the connection can be reused); false for a larger or a
     * broken body (left as it is).
     */
    private static boolean drain(InputStream in) {
        try {
            long left = DRAIN_BYTES;
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                left -= n;
                if (left < 0) return false;
            }
            in.close();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The HTTP status sent (0 before anything was). */
    int status() {
        return status;
    }

    void json(int status, JsonNode body) throws IOException {
        send(status, "application/json", body.toString() + "\n");
    }

    void error(ApiError e) throws IOException {
        if (e.status() == 429) response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        if (!bodyOpened && request.getLength() != 0 && request.getLength() <= DRAIN_BYTES) {
            bodyOpened = true;
            bodyRead = drain(Request.asInputStream(request));
        }
        // a body left unread (beyond DRAIN_BYTES) cannot be skipped safely: close after answering, and say so, so that
        // the client does not reuse the connection
        if (!bodyRead && request.getLength() != 0) response.getHeaders().put(HttpHeader.CONNECTION, "close");
        json(e.status(), e.toJson());
    }

    void send(int status, String contentType, String body) throws IOException {
        this.status = status;
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        write(true, body);
        complete();
    }

    /** Starts a server-sent-events answer (200, text/event-stream). */
    void startEvents() {
        status = 200;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
    }

    /** One event: {@code data: PAYLOAD} and a blank line, flushed to the client. */
    void event(String payload) throws IOException {
        write(false, "data: " + payload + "\n\n");
    }

    /** Ends the event stream. */
    void endEvents() throws IOException {
        write(true, "");
        complete();
    }

    private void write(boolean last, String text) throws IOException {
        if (gone) throw new ClientGone(null);
        FutureCallback cb = new FutureCallback();
        response.write(last, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), cb);
        try {
            cb.get();
        } catch (ExecutionException e) {
            clientGone();
            throw new ClientGone(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClientGone(e);
        }
    }

    private void complete() {
        if (!done) {
            done = true;
            callback.succeeded();
        }
    }

    /** Ends the exchange after a failure (nothing more can be written). */
    void abort(Throwable t) {
        if (!done) {
            done = true;
            callback.failed(t);
        }
    }

    boolean isDone() {
        return done;
    }
}
