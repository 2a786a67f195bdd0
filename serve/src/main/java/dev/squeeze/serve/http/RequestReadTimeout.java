package dev.squeeze.serve.http;

import dev.squeeze.serve.runtime.InferenceProtocol;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.netty.channel.ChannelPipelineCustomizer;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import jakarta.inject.Singleton;

/**
 * Answers 408 (with the protocol's error body) and closes the connection when a request's body stops arriving for
 * {@code micronaut.server.read-idle-timeout}, e.g. a body shorter than its Content-Length. Micronaut's own handler
 * ignores that timeout's events and only closes a connection once it has been idle for {@code idle-timeout} (5 min).
 * A connection idle between requests is left alone.
 */
@Singleton
@Requires(beans = NettyServerCustomizer.Registry.class)
public class RequestReadTimeout implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {
    private final HttpServerConfiguration server;

    public RequestReadTimeout(HttpServerConfiguration server) {
        this.server = server;
    }

    @Override
    public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
        event.getBean().register(new Customizer(null));
        return event.getBean();
    }

    /** Puts a {@link Handler} right after each HTTP/1 connection's codec, where it sees whole requests and responses. */
    private final class Customizer implements NettyServerCustomizer {
        private final Channel channel;

        Customizer(Channel channel) {
            this.channel = channel;
        }

        @Override
        public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
            return role == ChannelRole.CONNECTION ? new Customizer(channel) : this;
        }

        @Override
        public void onStreamPipelineBuilt() {
            if (channel != null && channel.pipeline().get(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC) != null) {
                channel.pipeline().addAfter(ChannelPipelineCustomizer.HANDLER_HTTP_SERVER_CODEC, "squeeze-request-read-timeout",
                        new Handler(server.getReadIdleTimeout().getSeconds()));
            }
        }
    }

    /** One connection's requests: whether one is still arriving, and whether it has been answered. */
    private static final class Handler extends ChannelDuplexHandler {
        private final long seconds;
        private long requests;     // request heads received
        private long responses;    // final responses (not 100 Continue) sent
        private boolean receiving; // the latest request's body has not all arrived

        Handler(long seconds) {
            this.seconds = seconds;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof HttpRequest) {
                requests++;
                receiving = true;
            }
            if (msg instanceof LastHttpContent) receiving = false;
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse r && r.status().codeClass() != HttpStatusClass.INFORMATIONAL) {
                responses++;
            }
            ctx.write(msg, promise);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE && receiving) {
                receiving = false;
                if (responses == requests - 1) {
                    // Every earlier request is answered and this one is not: the 408 is its answer.
                    ctx.writeAndFlush(timeout()).addListener(ChannelFutureListener.CLOSE);
                } else {
                    ctx.close();   // answered already (e.g. 404 before its body came), or earlier answers still pending
                }
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        private FullHttpResponse timeout() {
            byte[] body = InferenceProtocol.error("the request body stopped arriving: nothing was received for " + seconds
                    + " s before the body was complete (its Content-Length promised more); send the whole body "
                    + "(the server's micronaut.server.read-idle-timeout)");
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            return r;
        }
    }
}
