package dev.squeeze.serve.load;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How {@link LoadGenerator} sends its requests. */
public enum Protocol {
    /** HTTP/1.1 {@code POST /v2/models/{name}/infer} with a JSON body and a JSON answer (the protocol's default). */
    JSON,
    /**
     * HTTP/1.1, the binary tensor data extension: the JSON inference header with every input's
     * {@code binary_data_size} and {@code binary_data_output}, its length in {@code Inference-Header-Content-Length},
     * then the inputs' raw little-endian bytes; the answer likewise (checked: status 200, the header, within the body).
     */
    BINARY,
    /**
     * gRPC, {@code inference.GRPCInferenceService/ModelInfer} with the inputs in {@code raw_input_contents}, on the
     * server's gRPC port.
     */
    GRPC;

    /** The name as the command line writes it: {@code json}, {@code binary}, {@code grpc}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the protocols, for anything else
     */
    public static Protocol parse(String text) {
        for (Protocol p : values()) {
            if (p.label().equalsIgnoreCase(text == null ? "" : text.strip())) return p;
        }
        throw new IllegalArgumentException("the protocol must be one of " + Arrays.stream(values()).map(Protocol::label)
                .collect(Collectors.joining(", ")) + ", got '" + text + "'");
    }
}
