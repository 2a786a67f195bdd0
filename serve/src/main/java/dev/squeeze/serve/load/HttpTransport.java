package dev.squeeze.serve.load;

import dev.squeeze.serve.runtime.InferenceProtocol;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP/1.1 requests of {@link Protocol#JSON} and {@link Protocol#BINARY}, on Netty: {@code threads} event loops,
 * each virtual user with its own keep-alive connection on one of them (round robin), sending the same body again as
 * soon as its answer has been read whole. A connection the server closes, or one whose answer times out, is replaced.
 *
 * <p>An answer is a success when its status is 2xx; for {@link Protocol#BINARY}, when it is also binary tensor data:
 * the {@value InferenceProtocol#HEADER_LENGTH} header a whole number within the body.
 */
final class HttpTransport implements Transport {
    /** The largest answer read. */
    private static final int MAX_ANSWER_BYTES = 256 * 1024 * 1024;
    /** How long a user waits before connecting again after a connection could not be made. */
    private static final long RECONNECT_DELAY_MILLIS = 50;

    private final EventLoopGroup group;
    private final SslContext ssl;
    private final String host;
    private final int port;
    private final String path;
    private final ByteBuf body;
    private final HttpHeaders headers;
    private final boolean binary;
    private final Duration timeout;

    /**
     * @param target    the URL every request is POSTed to
     * @param body      the body every request sends
     * @param jsonBytes with the binary tensor data extension, the JSON part's length ({@value
     *                  InferenceProtocol#HEADER_LENGTH}); -1 for a JSON body
     * @param threads   event loop threads, made by {@code factory}
     */
    HttpTransport(URI target, byte[] body, int jsonBytes, int threads, ThreadFactory factory, Duration timeout) {
        boolean https = target.getScheme().equalsIgnoreCase("https");
        this.host = target.getHost();
        this.port = target.getPort() >= 0 ? target.getPort() : https ? 443 : 80;
        this.path = target.getRawPath() + (target.getRawQuery() == null ? "" : "?" + target.getRawQuery());
        this.body = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(body));
        this.binary = jsonBytes >= 0;
        this.timeout = timeout;
        HttpHeaders h = new DefaultHttpHeaders();
        h.set(HttpHeaderNames.HOST, target.getPort() >= 0 ? host + ":" + port : host);
        h.set(HttpHeaderNames.CONTENT_TYPE, binary ? HttpHeaderValues.APPLICATION_OCTET_STREAM : HttpHeaderValues.APPLICATION_JSON);
        h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
        h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        if (binary) h.set(InferenceProtocol.HEADER_LENGTH, jsonBytes);
        this.headers = h;
        try {
            this.ssl = https ? SslContextBuilder.forClient().build() : null;
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up TLS for " + target + ": " + e.getMessage(), e);
        }
        this.group = new MultiThreadIoEventLoopGroup(threads, factory, NioIoHandler.newFactory());
    }

    @Override
    public void start(LoadGenerator.Users users) {
        new User(users).connect();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One virtual user: one connection at a time, one request at a time on it. */
    private final class User {
        private final LoadGenerator.Users users;
        private final HttpHeaders ownHeaders = headers.copy();
        private Connection current;

        User(LoadGenerator.Users users) {
            this.users = users;
        }

        void connect() {
            if (users.stopping()) {
                users.userDone();
                return;
            }
            long start = System.nanoTime();
            Connection c = new Connection(this);
            current = c;
            Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ChannelPipeline p = ch.pipeline();
                            if (ssl != null) p.addLast(ssl.newHandler(ch.alloc(), host, port));
                            p.addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_ANSWER_BYTES), c);
                        }
                    });
            ChannelFuture f = b.connect(host, port);
            f.addListener(done -> {
                if (done.isSuccess()) return;   // channelActive sends the first request
                // The connection is this request's failure: counted, then tried again a little later.
                users.record(System.nanoTime() - start, () -> LoadGenerator.describe(done.cause(), timeout));
                current = null;
                f.channel().eventLoop().schedule(this::connect, RECONNECT_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            });
        }

        /** Ends {@code c} and goes on with a new connection (or stops). */
        void replace(Connection c) {
            if (current != c) return;
            current = null;
            c.channel.close();
            connect();
        }

        /** After an answer on {@code c}: the next request, or the user's end. */
        void next(Connection c) {
            if (users.stopping()) {
                current = null;
                c.channel.close();
                users.userDone();
            } else {
                c.send();
            }
        }
    }

    /** One connection of a user, and its handler. */
    private final class Connection extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final User user;
        private Channel channel;
        private boolean inFlight;
        private long sent;
        private io.netty.util.concurrent.ScheduledFuture<?> timer;

        Connection(User user) {
            this.user = user;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            user.next(this);
        }

        void send() {
            inFlight = true;
            sent = System.nanoTime();
            timer = channel.eventLoop().schedule(() -> fail(() -> "no answer within " + LoadGenerator.seconds(timeout)),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
            channel.writeAndFlush(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, body.duplicate(),
                    user.ownHeaders, EmptyHttpHeaders.INSTANCE)).addListener(w -> {
                        if (!w.isSuccess()) fail(() -> LoadGenerator.describe(w.cause(), timeout));
                    });
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse answer) {
            if (!inFlight) return;
            inFlight = false;
            timer.cancel(false);
            long latency = System.nanoTime() - sent;
            user.users.record(latency, problem(answer));
            if (HttpUtil.isKeepAlive(answer)) user.next(this);
            else user.replace(this);
        }

        /** Null for a successful answer; else what was wrong, computed only when asked (for the first error). */
        private java.util.function.Supplier<String> problem(FullHttpResponse answer) {
            int status = answer.status().code();
            if (status / 100 != 2) {
                byte[] bytes = ByteBufUtil.getBytes(answer.content());
                return () -> "HTTP " + status + ": " + LoadGenerator.serverError(bytes);
            }
            if (!binary) return null;
            String length = answer.headers().get(InferenceProtocol.HEADER_LENGTH);
            int size = answer.content().readableBytes();
            if (length == null) {
                String type = answer.headers().get(HttpHeaderNames.CONTENT_TYPE);
                return () -> "HTTP " + status + " without " + InferenceProtocol.HEADER_LENGTH + " (Content-Type " + type
                        + "): the answer is not binary tensor data";
            }
            long json;
            try {
                json = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                json = -1;
            }
            if (json < 1 || json > size) {
                return () -> InferenceProtocol.HEADER_LENGTH + " is '" + length + "', not a length within the "
                        + size + "-byte answer";
            }
            return null;
        }

        /** The request in flight failed: counted, and the connection replaced. */
        void fail(java.util.function.Supplier<String> error) {
            if (user.current != this) return;
            if (inFlight) {
                inFlight = false;
                if (timer != null) timer.cancel(false);
                user.users.record(System.nanoTime() - sent, error);
            }
            user.replace(this);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(() -> "the server closed the connection before answering");
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(() -> LoadGenerator.describe(cause, timeout));
        }
    }
}
